"""Lazy package exports (PEP 562): a package's public names are imported from their
defining modules on first access, so that importing a light submodule (a config, a list of
names) does not import TensorFlow through the package's ``__init__``."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """A module ``__getattr__`` for ``package`` that imports ``name`` from the module
    ``exports[name]`` (a dotted module name) on first access; other names raise
    ``AttributeError`` as a module does.

    >>> __getattr__ = lazy_exports("qgan.generator", {"CVGenerator": "qgan.generator.cv"})
    """

    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
