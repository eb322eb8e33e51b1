"""Reading, validating and writing YAML run configs: shared by every workload's pydantic
config (:mod:`qgan.gan.config`, :mod:`qgan.classify.config`), which binds its model.

Relative file paths inside a config file (the dotted keys a workload names, e.g.
``data.path``) resolve against the config file's folder, so a config runs from any working
directory; paths given as overrides (the command line) resolve against the working
directory. A resolved config is written with absolute paths, so it reads back the same
from a run directory. Imports neither TensorFlow nor Strawberry
Fields: a bad config is reported before either is loaded.

The configs shipped with qgan are installed with the package (``qgan/configs/*.yaml``; a
clone's ``configs/`` links there): where a config argument names no existing file, a shipped
config of that name is used (``bimodal`` or ``bimodal.yaml``), see :func:`resolve_path`.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError


def config_error(err: ValidationError) -> ValueError:
    """One line naming the first offending key of a pydantic ``ValidationError``."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        key, sep, rest = msg.partition(": ")
        if sep and " " not in key:  # validator messages start with the key they are about
            loc = f"{loc}.{key}" if loc and not key.startswith(loc) else key
            msg = rest
    elif "input" in first and first["type"] not in ("missing",):
        msg = f"{msg}, got {first['input']!r}"
    return ValueError(f"config key {loc or '<root>'}: {msg}")


def validate(model: type[BaseModel], data):
    """``model`` validated from a config mapping; a one-line ``ValueError`` naming the key."""
    if not isinstance(data, dict):
        raise ValueError(f"config must be a mapping of sections, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise config_error(err) from None


SHIPPED = Path(__file__).resolve().parent / "configs"  # the configs installed with qgan


def shipped_configs() -> list[Path]:
    """The shipped config files (``qgan/configs/*.yaml``), sorted by name."""
    return sorted(SHIPPED.glob("*.yaml"))


def resolve_path(path) -> Path:
    """The config file ``path`` names: the file itself when it exists, else the shipped
    config of that name (``bimodal`` or ``bimodal.yaml``, a bare name without folders);
    a one-line ``ValueError`` when neither exists."""
    path = Path(path)
    if path.is_file():
        return path
    if path.parent == Path(".") and path.name:
        name = path.name if path.suffix == ".yaml" else f"{path.name}.yaml"
        shipped = SHIPPED / name
        if shipped.is_file():
            return shipped
        names = ", ".join(p.stem for p in shipped_configs())
        raise ValueError(
            f"config file {str(path)!r} does not exist and is not a shipped config ({names})"
        )
    raise ValueError(f"config file {str(path)!r} does not exist")


def read_yaml(path, overrides: dict | None = None) -> dict:
    """The mapping of a YAML config file with ``overrides`` (dotted key -> value) applied;
    ``path`` is a file or a shipped config's name (:func:`resolve_path`)."""
    path = resolve_path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"config file {str(path)!r} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping of sections")
    set_keys(data, overrides or {})
    return data


def set_keys(data: dict, values: dict) -> None:
    """Set dotted keys (``train.steps``) of a config mapping in place, creating sections."""
    for key, value in values.items():
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value


def absolute_paths(data: dict, keys, base) -> None:
    """Make the relative path strings at the dotted ``keys`` of ``data`` absolute against
    the folder ``base``, in place; absent keys, ``None`` and non-strings (left for
    validation to report) are kept."""
    for key in keys:
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(leaf), str):
            node[leaf] = os.path.abspath(os.path.join(base, os.path.expanduser(node[leaf])))


def load_config(model: type[BaseModel], path, overrides: dict | None = None, *, paths=()):
    """``model`` validated from the YAML file ``path`` (or a shipped config's name, see
    :func:`resolve_path`) with ``overrides`` (dotted key -> value) applied; a one-line
    ``ValueError`` naming the key on any problem.

    ``paths``: the dotted keys holding file paths. Relative ones in the file are made
    absolute against the config file's folder; ``overrides`` (the command line) are kept
    as given, relative to the working directory.
    """
    path = resolve_path(path)
    data = read_yaml(path)
    absolute_paths(data, paths, os.path.dirname(os.path.abspath(path)))
    set_keys(data, overrides or {})
    return validate(model, data)


def dump_config(cfg: BaseModel, *, paths=()) -> str:
    """The resolved config (every default filled in) as YAML; relative file paths at the
    dotted keys ``paths`` are written absolute (against the working directory), so the
    file reads back the same wherever it is saved."""
    data = cfg.model_dump(mode="json")
    absolute_paths(data, paths, Path.cwd())
    return yaml.safe_dump(data, sort_keys=False)
