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
