"""Run the shipped classifier configs over seeds, write the results report and fill the
README's classifier results block.

Usage:
    python scripts/classify_results.py [CONFIG ...] [--seeds 0] [--out reports/classify_results]
        [--readme README.md] [--runs-dir runs/classify_results]
    python scripts/classify_results.py --from-report reports/classify_results.json
        [--out reports/classify_results] [--readme README.md]

CONFIGs default to the three shipped ones (configs/fashion_mnist_qubit.yaml,
configs/fashion_mnist_classical.yaml, configs/digits_qubit.yaml). Writes OUT.md and
OUT.json (validation and train accuracy, parameters, wall time, circuits and shots
executed per run, the command) and replaces the lines between ``<!-- classify-results:start
-->`` and ``<!-- classify-results:end -->`` of --readme with a short table and the command
(``--readme ''``: leave the README alone). ``--from-report JSON`` makes no runs: it rewrites
OUT and the block from a report's stored runs, command and machine. Library functions:
``qgan.classify.results``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from pathlib import Path

from qgan.cli import parse_seeds

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    from qgan.classify import results

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", help="classifier configs (default: the shipped)")
    parser.add_argument("--seeds", default="0", help="seeds, e.g. 0 or 0-2 or 0,1 (default 0)")
    parser.add_argument("--out", default="reports/classify_results", help="report, no suffix")
    parser.add_argument("--readme", default="README.md", help="README to fill ('': none)")
    parser.add_argument(
        "--runs-dir", default="runs/classify_results", help="where the runs are written"
    )
    parser.add_argument(
        "--from-report",
        metavar="JSON",
        help="no runs: rewrite OUT and the README block from this report's stored runs "
        "(its own command and machine), e.g. after a change to the tables",
    )
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    configs = args.configs or [str(ROOT / c) for c in results.SHIPPED]
    seeds = parse_seeds(args.seeds)
    readme = Path(args.readme) if args.readme else None
    if readme is not None and not readme.is_file():
        print(f"classify_results: error: --readme: no such file {str(readme)!r}", file=sys.stderr)
        return 2
    if readme is not None:  # markers checked before hours of training, not after
        try:
            results.replace_block(readme.read_text(encoding="utf-8"), "", name=str(readme))
        except ValueError as err:
            print(f"classify_results: error: --readme: {err}", file=sys.stderr)
            return 2
    if args.from_report:
        try:
            stored = json.loads(Path(args.from_report).read_text(encoding="utf-8"))
            rows, command, machine = stored["runs"], stored["command"], stored["machine"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            print(
                f"classify_results: error: --from-report: not a classify_results report "
                f"({type(err).__name__}: {err})",
                file=sys.stderr,
            )
            return 2
    else:
        try:
            rows = results.run_results(configs, seeds, output_dir=args.runs_dir)
        except ValueError as err:
            print(f"classify_results: error: {err}", file=sys.stderr)
            return 2
        command = shlex.join(["python", "scripts/classify_results.py", *argv])
        from qgan._machine import machine_info

        machine = machine_info()
    md, js = results.write_results(args.out, rows, command, machine)
    print(f"wrote {md} and {js}")
    if readme is not None:
        link = os.path.relpath(md, readme.resolve().parent)
        results.update_readme(readme, results.readme_block(rows, command, link))
        print(f"updated {readme} between {results.START} and {results.END}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
