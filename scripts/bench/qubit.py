"""Benchmark the qubit simulator (forward + gradient) against cirq.Simulator and PennyLane.

Usage:
    python scripts/bench/qubit.py [--qubits 8] [--depth 4] [--batch-size 256] [--repeats 30]
        [--baseline-batch-size N] [--baseline-repeats 5] [--baselines cirq,default.qubit,...]
        [--entanglers cnot,ms,zz] [--no-xla] [--no-profile] [--json] [--out reports/bench_qubit]
        [--targets scripts/bench/targets.toml | --no-targets]

Writes OUT.md and OUT.json (the command, machine, versions and date at the top). The
target verdict reads the ``[qubit]`` table of ``--targets`` (default: ``targets.toml`` beside
this script). The helpers are in ``qubit_baselines.py`` beside it. PennyLane,
its lightning plugin and JAX come with ``pip install -e ".[bench]"``; a baseline that is not
installed is skipped with a note. Exit status 1 if a simulator disagrees with ours beyond the
stated tolerance.

OMP_NUM_THREADS defaults to 1 here (set it to override): lightning.qubit's OpenMP threads on
a 256-amplitude state only contend with each other, badly so on a busy machine.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before lightning's OpenMP runtime loads
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import _common  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=8, help="qubits (default 8)")
    parser.add_argument("--depth", type=int, default=4, help="layers (default 4)")
    parser.add_argument("--batch-size", type=int, default=256, help="batch (default 256)")
    parser.add_argument("--repeats", type=int, default=30, help="timed repeats (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm-up calls (default 3)")
    parser.add_argument(
        "--baseline-batch-size",
        type=int,
        help="batch of the Python-loop baselines cirq and lightning.qubit (default --batch-size)",
    )
    parser.add_argument(
        "--baseline-repeats", type=int, default=5, help="their timed repeats (default 5)"
    )
    parser.add_argument(
        "--baselines",
        type=_common.names,
        default="cirq,default.qubit,lightning.qubit",
        help="comma-separated baselines (default cirq,default.qubit,lightning.qubit; '' for none)",
    )
    parser.add_argument(
        "--entanglers", type=_common.names, default="cnot,ms,zz", help="entangler rows (all)"
    )
    parser.add_argument("--no-xla", action="store_true", help="skip the XLA (jit_compile) row")
    parser.add_argument("--no-complex128", action="store_true", help="skip the complex128 row")
    parser.add_argument("--no-stages", action="store_true", help="skip the stage timings")
    parser.add_argument("--no-profile", action="store_true", help="skip the TF op profile")
    parser.add_argument("--seed", type=int, default=0, help="input seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", help="write OUT.md and OUT.json (e.g. reports/bench_qubit)")
    parser.add_argument(
        "--targets",
        default=str(_common.TARGETS),
        help="TOML file whose [qubit] table holds the target (default targets.toml here)",
    )
    parser.add_argument("--no-targets", action="store_true", help="report no target verdict")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    _common.setup_logging()

    from qubit_baselines import bench_qubit, format_report

    from qgan._machine import machine_info

    try:
        target = None if args.no_targets else _common.load_targets("qubit", args.targets)
        result = bench_qubit(
            n_qubits=args.qubits,
            depth=args.depth,
            batch_size=args.batch_size,
            repeats=args.repeats,
            warmup=args.warmup,
            baseline_batch_size=args.baseline_batch_size,
            baseline_repeats=args.baseline_repeats,
            baselines=tuple(args.baselines),
            entanglers=tuple(args.entanglers),
            xla=not args.no_xla,
            complex128=not args.no_complex128,
            stages=not args.no_stages,
            profile=not args.no_profile,
            seed=args.seed,
            target=target,
        )
    except (ValueError, OSError) as err:
        print(f"bench/qubit.py: error: {err}", file=sys.stderr)
        return 2
    result["command"] = _common.command_line("qubit.py", argv)
    result["machine"] = machine_info()
    text = format_report(result, result["machine"])
    if args.out:
        _common.write_report(args.out, result, text)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(text)
    return 0 if all(a["ok"] for a in result["agreement"]) else 1


if __name__ == "__main__":
    sys.exit(main())
