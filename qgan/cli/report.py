"""Report verb: ``report`` (re-render a finished run's ``report.md``, or compare runs)."""

from __future__ import annotations

import argparse
import shlex
import sys


def _report(args) -> int:
    from qgan.reports.compare import write_comparison
    from qgan.reports.kinds import read_run, write_report

    if not args.compare:
        if args.out is not None:
            raise ValueError(
                "--out applies to --compare only (a run's report is RUN_DIR/report.md)"
            )
        for run_dir in args.run_dirs:  # every directory is checked before anything is written
            read_run(run_dir)
        written = [write_report(run_dir) for run_dir in args.run_dirs]
    else:
        argv = sys.argv[1:] if args.argv is None else args.argv
        command = "qgan " + " ".join(shlex.quote(str(a)) for a in argv)
        written = [write_comparison(args.run_dirs, args.out, command=command)]
    if not args.quiet:
        for path in written:
            print(path)
    return 0


def register(verbs) -> None:
    """Add the ``report`` verb."""
    report = verbs.add_parser(
        "report",
        help="re-render a run's report.md, or compare runs side by side (--compare)",
        description="Render RUN_DIR/report.md of finished runs (GAN or classifier) from their "
        "files; with --compare, write one Markdown comparison of the runs (with a PNG of their "
        "plots and a JSON twin).",
    )
    report.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="finished run directories")
    report.add_argument(
        "--compare", action="store_true", help="compare the runs (two or more) side by side"
    )
    report.add_argument(
        "--out",
        help="comparison Markdown path (default reports/compare_<names>.md); the .png and "
        ".json beside it share its name",
    )
    report.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="print nothing"
    )
    report.set_defaults(run=_report)
