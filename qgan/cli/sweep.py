"""Sweep verb: ``sweep`` (configs x ``--set`` values x seeds as Ray Tune trials, then the
aggregated report). The work is :mod:`qgan.sweep`; the report :mod:`qgan.reports.sweep`."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from qgan.cli import parse_seeds

log = logging.getLogger("qgan.cli")


def _seeds(text: str) -> list[int]:
    try:
        return parse_seeds(text)
    except SystemExit as err:  # parse_seeds' one line, as every other input error here
        raise ValueError(str(err)) from None


def _address(text: str) -> str:
    """argparse type of ``--address``: ``auto`` or ``HOST:PORT``."""
    host, sep, port = text.rpartition(":")
    if text == "auto" or (sep and host and port.isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"expected auto or HOST:PORT, got {text!r}")


def _references(specs) -> dict:
    """The reference points of each GAN config (by name) for the samples figure."""
    from qgan.gan.training import load_data
    from qgan.sweep.trials import config_module

    refs = {}
    for spec in specs:
        if spec.workload == "gan" and spec.name not in refs:
            cfg = config_module("gan").parse_config(spec.config)
            refs[spec.name] = load_data(cfg)[1]
    return refs


def _sweep(args) -> int:
    from qgan._paths import check_output_dir
    from qgan.reports.sweep import LOWER_IS_BETTER, default_metric, load_targets
    from qgan.sweep.store import TrialStore
    from qgan.sweep.trials import expand_trials

    # everything is validated before Ray starts or anything is written
    out = Path(args.out)
    out = out.with_suffix("") if out.suffix == ".md" else out
    check_output_dir(out.parent, key="--out")
    seeds = _seeds(args.seeds)
    if args.no_targets:
        targets, published = None, None
    elif args.targets is None:
        targets, published = load_targets()
    else:
        targets, published = load_targets(args.targets)
    specs = expand_trials(args.configs, seeds, args.set or (), runs_dir=args.runs_dir)
    store = TrialStore(out)
    if args.resume and not store.exists():
        raise ValueError(f"--resume: no finished trials under {store.folder} to resume from")
    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise ValueError(f"--max-concurrent must be >= 1, got {args.max_concurrent}")
    if args.retries < 0:
        raise ValueError(f"--retries must be >= 0, got {args.retries}")
    kinds = {s.workload for s in specs}
    metric = args.metric
    if metric is None:
        metric = "high_quality_fraction" if kinds == {"gan"} else "accuracy"
        if kinds == {"gan"} and any(s.config["data"]["kind"] == "moons" for s in specs):
            metric = "energy_distance"
    log.info(
        "%d trials (%d configs x %d settings x %d seeds), %d CPU(s) each, on %s",
        len(specs),
        len(args.configs),
        len(specs) // (len(args.configs) * len(seeds)),
        len(seeds),
        args.cpus_per_trial,
        args.address or "a local Ray cluster",
    )

    from qgan.sweep.runner import SweepInterrupted, run_sweep

    argv = sys.argv[1:] if args.argv is None else args.argv
    command = "qgan " + " ".join(shlex.quote(str(a)) for a in argv)
    try:
        summary = run_sweep(
            specs,
            out,
            address=args.address,
            cpus_per_trial=args.cpus_per_trial,
            max_concurrent=args.max_concurrent,
            retries=args.retries,
            metric=metric,
            higher_is_better=metric not in LOWER_IS_BETTER,
        )
    except SweepInterrupted as stop:
        resume = command if "--resume" in argv else f"{command} --resume"
        print(
            f"interrupted: {stop.finished} of {stop.total} trials finished and kept in "
            f"{store.folder}; resume with: {resume}",
            file=sys.stderr,
        )
        return 130
    records = store.records([s.trial_id for s in specs])
    if metric is not None and not any(
        metric in r.get("metrics", {}) for r in records if r["status"] == "ok"
    ):
        fallback, _ = default_metric(records)
        if any(r["status"] == "ok" for r in records):
            log.warning("--metric %s: no finished trial has it; plotting %s", metric, fallback)
        metric = fallback

    from qgan._machine import machine_info
    from qgan.cli import import_tensorflow
    from qgan.reports.sweep import write_sweep_report

    references = {}
    if "gan" in kinds:
        import_tensorflow()
        references = _references(specs)
    swept = list(dict.fromkeys(k for s in specs for k in s.overrides))
    report = write_sweep_report(
        out,
        records,
        command,
        machine_info(),
        swept=swept,
        metric=metric,
        targets=targets,
        published=published,
        references=references,
    )
    failed = [r for r in records if r["status"] != "ok"]
    if not args.quiet:
        print(
            f"{len(specs)} trials: {len(records) - len(failed)} finished "
            f"({summary['skipped']} from an earlier run), {len(failed)} failed"
            + (f" ({', '.join(r['trial_id'] for r in failed)})" if failed else "")
        )
        print(f"report: {report}")
    return 1 if failed else 0


def register(verbs) -> None:
    """Add ``sweep``."""
    p = verbs.add_parser(
        "sweep",
        help="run configs x --set values x seeds as Ray Tune trials and write one report",
        description="Run every combination of configs, --set values and seeds as a Ray "
        "Tune trial (each the run `qgan train` or `qgan classify` makes for it, in its "
        "normal run directory) and write the aggregated report OUT.md, OUT.json, OUT.png. "
        "Without --address a local Ray cluster is started for the sweep and stopped after "
        "it; with --address the trials run on that existing cluster. Each finished trial "
        "is kept in OUT.trials/ as it finishes: re-running the command (or --resume) runs "
        "only the trials without a result.",
    )
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="GAN or classifier configs")
    p.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-4 or 0,2,5 (default 0-4)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=V1,V2,...",
        help="sweep a dotted config key over values (repeatable: the product is swept)",
    )
    p.add_argument("--out", default="reports/sweep", help="report path without suffix")
    p.add_argument(
        "--runs-dir",
        help="where the trials' run directories go (default: each config's output.dir)",
    )
    p.add_argument(
        "--address",
        type=_address,
        help="an existing Ray cluster (auto or HOST:PORT); default: a local cluster",
    )
    p.add_argument("--cpus-per-trial", type=int, default=1, help="CPUs (and TF threads) per trial")
    p.add_argument("--max-concurrent", type=int, help="at most this many trials at once")
    p.add_argument(
        "--retries", type=int, default=1, help="retries of a trial that fails (default 1)"
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the sweep whose results are in OUT"
    )
    p.add_argument(
        "--metric",
        help="the metric of the figure and progress display (default: "
        "high_quality_fraction for GAN, energy_distance for moons, accuracy for classifiers)",
    )
    p.add_argument(
        "--targets", default=None, help="TOML file with [gan.targets] (default: qgan's own)"
    )
    p.add_argument("--no-targets", action="store_true", help="report no targets")
    p.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no summary lines"
    )
    p.set_defaults(run=_sweep, positive=("cpus_per_trial",))
