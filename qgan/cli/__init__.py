"""qgan command line: thin verbs over library functions.

Each module of this package registers its verbs with ``register(verbs)`` (an argparse
subparsers object) and sets ``run`` (a function ``args -> exit status``) on each verb;
an optional ``positive`` tuple names integer options that must be >= 1 (``cutoff`` >= 2).
Library errors (``ValueError``) become one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys


def add_run_options(parser: argparse.ArgumentParser, overrides: dict[str, str]) -> None:
    """The options of a verb that runs a config: ``--quiet`` or ``--json``, and one
    ``--<option>`` per entry of ``overrides`` (option name -> the dotted config key it
    overrides; ``seed`` and ``steps``/``epochs`` take integers)."""
    mode = parser.add_mutually_exclusive_group()
    # default SUPPRESS: without the flag here, the top-level ``qgan --quiet`` still counts
    mode.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bar or summary"
    )
    mode.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    for option, key in overrides.items():
        kind = int if option in ("seed", "steps", "epochs") else str
        parser.add_argument(f"--{option.replace('_', '-')}", type=kind, help=f"override {key}")


def config_overrides(args, overrides: dict[str, str]) -> dict:
    """The dotted config keys set on the command line: ``overrides`` maps an option name to
    its key (as in :func:`add_run_options`); options not given override nothing."""
    return {
        key: getattr(args, option)
        for option, key in overrides.items()
        if getattr(args, option, None) is not None
    }


def build_parser() -> argparse.ArgumentParser:
    """The ``qgan`` parser with the verbs of every module in ``qgan.cli``."""
    parser = argparse.ArgumentParser(prog="qgan", description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="only warnings and errors in the log")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}").register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qgan`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    for name in getattr(args, "positive", ()):
        value = getattr(args, name, None)
        minimum = 2 if name == "cutoff" else 1
        if value is not None and value < minimum:
            parser.error(f"--{name.replace('_', '-')} must be >= {minimum}, got {value}")
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("absl").setLevel(logging.WARNING)  # TF checkpoint chatter
    try:
        return args.run(args)
    except ValueError as err:
        print(f"qgan {args.verb}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
