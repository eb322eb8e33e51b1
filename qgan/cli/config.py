"""Config verbs: ``config list`` (the shipped configs), ``config show CONFIG`` (the resolved
config with every default) and ``config reference`` (every key as Markdown). None imports
TensorFlow."""

from __future__ import annotations

import re
from pathlib import Path


def _models() -> dict:
    """Workload -> (the ``qgan.*.config`` module, the reference section title)."""
    from qgan.classify import config as classify_config
    from qgan.gan import config as gan_config

    return {
        "gan": (gan_config, "GAN configs (`qgan train`)"),
        "classify": (classify_config, "Classifier configs (`qgan classify`)"),
    }


def workload(raw: dict) -> str:
    """``"gan"`` or ``"classify"``: :func:`qgan.sweep.trials.workload` (defined there, where
    the sweep can use it too; imported on use, so that ``qgan`` starts quickly)."""
    from qgan.sweep.trials import workload as of

    return of(raw)


def description(path) -> str:
    """The first sentence of the config file's leading comment block ('' if none); over 100
    characters, its part before the first colon."""
    lines = []
    for line in Path(path).read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    text = " ".join(lines).strip()
    sentence = re.split(r"(?<=\.)\s+(?=[A-Z])", text, maxsplit=1)[0]
    return sentence.split(": ", 1)[0] if len(sentence) > 100 else sentence


def _list(args) -> int:
    from qgan._config import read_yaml, shipped_configs

    rows = [(p.stem, workload(read_yaml(p)), description(p)) for p in shipped_configs()]
    width = max(len(name) for name, _, _ in rows)
    for name, kind, text in rows:
        print(f"{name:<{width}}  {kind:<8}  {text}")
    return 0


def _show(args) -> int:
    from qgan._config import read_yaml

    module, _ = _models()[workload(read_yaml(args.config))]
    print(module.dump_config(module.load_config(args.config)), end="")
    return 0


def reference() -> str:
    """The config reference (Markdown) of both workloads' config models."""
    from qgan._config_reference import reference_markdown

    models = {
        name: (title, module.ClassifyConfig if name == "classify" else module.RunConfig)
        for name, (module, title) in _models().items()
    }
    return reference_markdown(models)


def _reference(args) -> int:
    print(reference(), end="")
    return 0


def register(verbs) -> None:
    """Add ``config`` with its sub-verbs ``list``, ``show`` and ``reference``."""
    config = verbs.add_parser(
        "config",
        help="list the shipped configs, show a resolved config, print the config reference",
    )
    sub = config.add_subparsers(dest="config_verb", required=True)
    listing = sub.add_parser("list", help="the configs shipped with qgan (name, workload, what)")
    listing.set_defaults(run=_list)
    show = sub.add_parser(
        "show",
        help="the resolved config (every default filled in) as YAML",
        description="Print CONFIG resolved: every key with its default, relative paths made "
        "absolute (against the config file's folder), as qgan train/classify would run it.",
    )
    show.add_argument("config", help="a YAML file, or a shipped config's name (qgan config list)")
    show.set_defaults(run=_show)
    ref = sub.add_parser("reference", help="every config key: type, default, meaning (Markdown)")
    ref.set_defaults(run=_reference)
