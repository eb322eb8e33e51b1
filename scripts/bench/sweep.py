"""What a sweep on Ray gains over running the same trials one after another.

Usage:
    python scripts/bench/sweep.py [--config configs/bimodal.yaml] [--seeds 0-3] [--steps N]
        [--out reports/bench_sweep]

Four ways of making the same runs (one per seed), each a fresh command timed from start to
exit, back to back in one run of this script:

1. ``sequential``: ``qgan train CONFIG --seed S`` for each seed, one after another
   (TensorFlow on all cores, as a user runs it by hand);
2. ``sweep, 1 CPU per trial, one at a time``: ``qgan sweep CONFIG --seeds ...
   --cpus-per-trial 1 --max-concurrent 1`` (the sweep's trials one after another);
3. ``sweep, 1 CPU per trial, concurrent``: ``qgan sweep CONFIG --seeds ...
   --cpus-per-trial 1`` (as many trials at once as the machine has cores);
4. ``sweep, all CPUs per trial, one at a time``: ``--cpus-per-trial <cores>
   --max-concurrent 1``.

Reported: each way's wall time, its speed-up over ``sequential`` and the concurrent sweep's
over the one-at-a-time sweep of the same 1-CPU trials, the runs' own wall times, the load
average before and after, and whether every way's final metrics equal the sequential runs'
(a trial is the run ``qgan train`` makes; TensorFlow's thread count may change the last
digits). Targets (issue 16): the concurrent sweep at least 1.5x faster than the same trials
one after another; ``--max-concurrent 1`` at most 10 % slower than ``sequential``.

Every way drives the real command line (``qgan train``, ``qgan sweep``): nothing here
re-implements a run or the scheduler.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

log = logging.getLogger("bench.sweep")
ROOT = Path(__file__).resolve().parents[2]
SPEEDUP_TARGET = 1.5
ONE_AT_A_TIME_SLOWDOWN = 1.10


def _qgan() -> list[str]:
    """The installed ``qgan`` entry point beside this interpreter (``main`` through
    ``python -c`` where none is installed)."""
    script = Path(sys.executable).with_name("qgan")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from qgan.cli import main; sys.exit(main())"]


def _timed(argv: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, proc.stdout


def _same_metrics(trial: dict, run: dict) -> bool:
    """A trial's metrics equal the plain run's on every metric the run reports (a sweep
    record adds derived columns; wall times may differ)."""
    return all(trial.get(k) == v for k, v in run.items() if k != "wall_time_s")


def measure(config: str, seeds: list[int], steps: int | None, work: Path) -> dict:
    """Run the four ways in ``work`` (a scratch folder) and return the report's fields."""
    from qgan._machine import machine_info

    cores = os.cpu_count() or 1
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    config = str(Path(config).absolute())
    seed_text = ",".join(map(str, seeds))
    load_before = os.getloadavg()
    ways = []

    # 1. sequential qgan train
    runs, total = [], 0.0
    for seed in seeds:
        argv = [*_qgan(), "train", config, "--seed", str(seed), "--json"]
        argv += ["--output-dir", str(work / "sequential")]
        if steps is not None:
            argv += ["--steps", str(steps)]
        wall, out = _timed(argv, work, env)
        total += wall
        final = json.loads(out)
        runs.append(
            {
                "seed": seed,
                "command_wall_s": wall,
                "metrics": final["metrics"],
                "run_wall_s": final["wall_time_s"],
            }
        )
        log.info("sequential: seed %d in %.1f s", seed, wall)
    ways.append(
        {
            "way": "sequential",
            "command": "qgan train CONFIG --seed S (each seed)",
            "wall_s": total,
            "runs": runs,
        }
    )
    reference = {r["seed"]: r["metrics"] for r in runs}

    sweeps = [
        (
            "sweep, 1 CPU per trial, one at a time",
            ["--cpus-per-trial", "1", "--max-concurrent", "1"],
        ),
        ("sweep, 1 CPU per trial, concurrent", ["--cpus-per-trial", "1"]),
        (
            f"sweep, {cores} CPUs per trial, one at a time",
            ["--cpus-per-trial", str(cores), "--max-concurrent", "1"],
        ),
    ]
    for index, (name, options) in enumerate(sweeps):
        out = work / f"sweep{index}"
        argv = [
            *_qgan(),
            "sweep",
            config,
            "--seeds",
            seed_text,
            "--out",
            str(out),
            "--runs-dir",
            str(work / f"runs{index}"),
            "--quiet",
            *options,
        ]
        if steps is not None:
            argv += ["--set", f"train.steps={steps}"]
        wall, _ = _timed(argv, work, env)
        report = json.loads(out.with_suffix(".json").read_text())
        runs = [
            {
                "seed": t["seed"],
                "trial_wall_s": t["trial_wall_s"],
                "metrics": t["metrics"],
                "run_wall_s": t["metrics"].get("wall_time_s"),
            }
            for t in report["trials"]
        ]
        log.info("%s: %.1f s", name, wall)
        ways.append(
            {
                "way": name,
                "command": f"qgan sweep CONFIG --seeds {seed_text} {' '.join(options)}",
                "wall_s": wall,
                "runs": runs,
            }
        )
    for way in ways:
        way["metrics_equal_sequential"] = all(
            _same_metrics(r["metrics"], reference[r["seed"]]) for r in way["runs"]
        )
    base = ways[0]["wall_s"]
    for way in ways:
        way["speedup_over_sequential"] = base / way["wall_s"]
    concurrent, one_at_a_time = ways[2], ways[1]
    return {
        "config": os.path.relpath(config, ROOT) if config.startswith(str(ROOT)) else config,
        "seeds": seeds,
        "steps": steps,
        "cores": cores,
        "machine": machine_info(),
        "load_before": list(load_before),
        "load_after": list(os.getloadavg()),
        "ways": ways,
        "concurrent_over_one_at_a_time": one_at_a_time["wall_s"] / concurrent["wall_s"],
        "concurrent_over_sequential": base / concurrent["wall_s"],
        "one_at_a_time_all_cpus_over_sequential": ways[3]["wall_s"] / base,
    }


def markdown(result: dict, command: str) -> str:
    lines = [
        "# Sweep on Ray against the same runs one after another",
        "",
        f"`{command}`",
        "",
        f"{_machine_line(result['machine'])}; load average before "
        f"{'/'.join(f'{x:.1f}' for x in result['load_before'])}, after "
        f"{'/'.join(f'{x:.1f}' for x in result['load_after'])}.",
        "",
        f"Config `{result['config']}`, seeds {result['seeds']}"
        + (f", {result['steps']} steps" if result["steps"] else "")
        + ". Wall time of each way from the command's start to its exit (Ray's cluster "
        "start and stop included).",
        "",
        "| way | command | wall s | speed-up over sequential | runs' own wall s "
        "| metrics = sequential |",
        "|---|---|---:|---:|---|---|",
    ]
    for way in result["ways"]:
        own = ", ".join(f"{r['run_wall_s']:.0f}" for r in way["runs"] if r["run_wall_s"])
        lines.append(
            f"| {way['way']} | `{way['command']}` | {way['wall_s']:.1f} | "
            f"{way['speedup_over_sequential']:.2f}x | {own} | "
            f"{'yes' if way['metrics_equal_sequential'] else 'no (last digits)'} |"
        )
    a, b, c = (
        result["concurrent_over_one_at_a_time"],
        result["concurrent_over_sequential"],
        result["one_at_a_time_all_cpus_over_sequential"],
    )
    lines += [
        "",
        f"- Concurrent sweep over the same 1-CPU trials one at a time: **{a:.2f}x** "
        f"(target >= {SPEEDUP_TARGET}: {'met' if a >= SPEEDUP_TARGET else 'missed'}).",
        f"- Concurrent sweep over sequential `qgan train` (all cores per run): **{b:.2f}x** "
        f"(target >= {SPEEDUP_TARGET}: {'met' if b >= SPEEDUP_TARGET else 'missed'}).",
        f"- Sweep with `--max-concurrent 1` (all CPUs per trial) over sequential: **{c:.2f}** "
        f"(target <= {ONE_AT_A_TIME_SLOWDOWN}: "
        f"{'met' if c <= ONE_AT_A_TIME_SLOWDOWN else 'missed'}).",
        "",
    ]
    return "\n".join(lines)


def _machine_line(m: dict) -> str:
    return f"{m['date']}, {m['cpu']}, {m['cores']} cores, tensorflow {m['tensorflow']}"


def main(argv=None) -> int:
    from qgan.cli import parse_seeds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/bimodal.yaml")
    parser.add_argument("--seeds", default="0-3", help="seeds, e.g. 0-3 (default)")
    parser.add_argument("--steps", type=int, default=None, help="override train.steps")
    parser.add_argument("--out", default="reports/bench_sweep", help="report, no suffix")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    _common.setup_logging()
    if not Path(args.config).is_file():
        print(f"sweep.py: error: --config: no such file {args.config!r}", file=sys.stderr)
        return 2
    seeds = parse_seeds(args.seeds)  # a bad value: one line naming --seeds
    work = Path(tempfile.mkdtemp(prefix="qgan-bench-sweep-"))
    try:
        result = measure(args.config, seeds, args.steps, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = _common.command_line("sweep.py", argv)
    result["command"] = command
    _common.write_report(args.out, result, markdown(result, command))
    print(markdown(result, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
