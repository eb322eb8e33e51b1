"""qgan command line: thin verbs over library functions.

Each module of this package registers its verbs with ``register(verbs)`` (an argparse
subparsers object) and sets ``run`` (a function ``args -> exit status``) on each verb;
an optional ``positive`` tuple names integer options that must be >= 1 (``cutoff`` >= 2).
Library errors (``ValueError``) become one line on stderr and exit status 2.

Quiet start-up: unless the user set ``TF_CPP_MIN_LOG_LEVEL``, :func:`main` sets it to 2
(TensorFlow's C++ warnings and info hidden, errors shown) and :func:`import_tensorflow`,
which a verb calls once its input is validated, drops the lines TensorFlow's native code
prints while it loads and probes for a GPU (absl's "All log messages before
absl::InitializeLog()" notice, ``cudart_stub`` and ``cuInit`` lines): those are written
before the variable is read, so it cannot hide them. Anything else written meanwhile is
passed on. A user-set ``TF_CPP_MIN_LOG_LEVEL`` turns both off.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import pkgutil
import re
import sys
import tempfile
from importlib import metadata

#: the variable TensorFlow's C++ logger reads; set to 2 by :func:`main` unless the user set it
TF_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
#: a line of TensorFlow's (absl/glog) C++ logger: severity and date, time, thread, file:line]
NATIVE_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ [^\s:]+:\d+\] ")
#: absl's notice printed before the logger is initialised
ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called"
_filter_native_startup = False  # set by main(): the user left TF_CPP_MIN_LOG_LEVEL unset


def version() -> str:
    """The installed package's version (``importlib.metadata``), ``"unknown"`` when qgan runs
    from a checkout that was never installed."""
    try:
        return metadata.version("qgan")
    except metadata.PackageNotFoundError:
        return "unknown"


def is_native_startup_line(line: str) -> bool:
    """Whether ``line`` comes from TensorFlow's C++ logger (or is absl's notice)."""
    return line.startswith(ABSL_NOTICE) or NATIVE_LOG_LINE.match(line) is not None


@contextlib.contextmanager
def _native_stderr_filtered():
    """File descriptor 2 goes to a temporary file for the block; afterwards the lines that
    are not :func:`is_native_startup_line` are written to stderr (all of them when the
    block raised)."""
    sys.stderr.flush()
    saved = os.dup(2)
    failed = True
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines = tmp.read().decode(errors="replace").splitlines(keepends=True)
            kept = [ln for ln in lines if failed or not is_native_startup_line(ln)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def import_tensorflow():
    """``import tensorflow`` and its device probe, with the native start-up lines dropped
    (see the module docstring) when :func:`main` runs and the user did not set
    ``TF_CPP_MIN_LOG_LEVEL``; a plain import otherwise. Verbs call it after validating
    their input, so that a bad config is one quick line. Returns the module."""
    if "tensorflow" in sys.modules or not _filter_native_startup:
        import tensorflow as tf

        return tf
    with _native_stderr_filtered():
        import tensorflow as tf

        tf.config.list_physical_devices()  # the cuInit probe prints here
    return tf


def add_run_options(parser: argparse.ArgumentParser, overrides: dict[str, str]) -> None:
    """The options of a verb that runs a config: ``--quiet`` (stdout: only the run
    directory) or ``--json``, and one ``--<option>`` per entry of ``overrides`` (option
    name -> the dotted config key it overrides; ``seed`` and ``steps``/``epochs`` take
    integers). Progress bars are drawn only when stderr is a terminal."""
    mode = parser.add_mutually_exclusive_group()
    # default SUPPRESS: without the flag here, the top-level ``qgan --quiet`` still counts
    mode.add_argument(
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print only the run directory (no progress bar, summary or info log)",
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


def parse_seeds(text: str) -> list[int]:
    """A ``--seeds`` value, ``"0-4"`` or ``"0,2,5"``, as a list of ints; anything else is a
    one-line ``SystemExit`` naming the option (the scripts' seed sweeps share it)."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.partition("-")
        try:
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
        except ValueError:
            raise SystemExit(f"--seeds: expected e.g. 0-4 or 0,1,2, got {text!r}") from None
    return seeds


def build_parser() -> argparse.ArgumentParser:
    """The ``qgan`` parser with the verbs of every module in ``qgan.cli``."""
    parser = argparse.ArgumentParser(prog="qgan", description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="only warnings and errors in the log")
    parser.add_argument(
        "--version", action="version", version=f"qgan {version()}", help="print the version"
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}").register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qgan`` command; returns the exit status. Sets
    ``TF_CPP_MIN_LOG_LEVEL=2`` unless the user set it (see the module docstring)."""
    global _filter_native_startup
    _filter_native_startup = TF_LOG_LEVEL not in os.environ
    os.environ.setdefault(TF_LOG_LEVEL, "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    for name in getattr(args, "positive", ()):
        value = getattr(args, name, None)
        minimum = 2 if name == "cutoff" else 1
        if value is not None and value < minimum:  # one line (no usage), exit status 2
            flag = f"--{name.replace('_', '-')}"
            parser.exit(2, f"qgan {args.verb}: error: {flag} must be >= {minimum}, got {value}\n")
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
