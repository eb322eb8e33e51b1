"""Benchmark the qubit simulator (forward + gradient) against cirq.Simulator and PennyLane.

Usage:
    python scripts/bench/qubit.py [--qubits 8] [--depth 4] [--batch-size 256] [--repeats 30]
        [--baseline-batch-size N] [--baseline-repeats 5] [--baselines cirq,default.qubit,...]
        [--entanglers cnot,ms,zz] [--no-xla] [--no-profile] [--json] [--out reports/bench_qubit]
        [--targets scripts/bench/targets.toml | --no-targets]

Writes OUT.md and OUT.json (the command, machine, versions and date at the top). The
target verdict reads the ``[qubit]`` table of ``--targets`` (default: ``targets.toml`` beside
this script). The simulators and baselines are in ``qubit_baselines.py`` beside it, the
stage timings and op profile in ``qubit_diagnostics.py``. PennyLane,
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
import logging  # noqa: E402
import sys  # noqa: E402
from dataclasses import asdict  # noqa: E402

import _common  # noqa: E402
import tensorflow as tf  # noqa: E402
from qubit_baselines import (  # noqa: E402
    BASELINES,
    ENTANGLERS,
    QUANTITIES,
    RUNNERS,
    Row,
    _row,
    _run_qgan,
    agreement,
    benchmark_inputs,
    benchmark_model,
    qgan_step,
)
from qubit_diagnostics import op_profile, stage_timings  # noqa: E402

from qgan._validate import check_int  # noqa: E402
from qgan.profiling.timing import to_host  # noqa: E402

log = logging.getLogger("bench.qubit")


def versions() -> dict:
    """Versions of the simulators (None where not installed)."""
    from importlib import metadata

    out = {}
    for dist in ("tensorflow", "cirq-core", "pennylane", "pennylane-lightning", "jax", "jaxlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def bench_qubit(
    n_qubits: int = 8,
    depth: int = 4,
    batch_size: int = 256,
    repeats: int = 30,
    warmup: int = 3,
    baseline_batch_size: int | None = None,
    baseline_repeats: int = 5,
    baselines=BASELINES,
    entanglers=ENTANGLERS,
    xla: bool = True,
    complex128: bool = True,
    stages: bool = True,
    profile: bool = True,
    seed: int = 0,
    target: dict | None = None,
) -> dict:
    """Time forward + gradient on ``qgan.qubit`` and the installed baselines; JSON-ready.

    ``baseline_batch_size`` (default ``batch_size``) and ``baseline_repeats`` apply to the
    Python-loop baselines (cirq, lightning.qubit); ``default.qubit`` runs at ``batch_size``
    with ``repeats``. Extra rows: the other ``entanglers`` (complex64) and, with ``xla``,
    the step compiled with XLA (``jit_compile=True``). ``stages`` adds
    :func:`stage_timings`, ``profile`` adds :func:`op_profile` of the complex64 step.
    ``target`` (e.g. ``{"us_per_sample": 20.0, "compile_s": 5.0}``) adds ``target``, the
    verdict of :func:`check_target`; without it the result has no target.
    """
    for name, value, minimum in (
        ("n_qubits", n_qubits, 1),
        ("depth", depth, 1),
        ("batch_size", batch_size, 1),
        ("repeats", repeats, 1),
        ("warmup", warmup, 0),
        ("baseline_repeats", baseline_repeats, 1),
    ):
        check_int(value, name, minimum)
    baseline_batch = batch_size if baseline_batch_size is None else baseline_batch_size
    check_int(baseline_batch, "baseline_batch_size", 1, maximum=batch_size)
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise ValueError(f"baselines must be among {list(BASELINES)}, got {unknown}")
    bad = [e for e in entanglers if e not in ENTANGLERS]
    if bad:
        raise ValueError(f"entanglers must be among {list(ENTANGLERS)}, got {bad}")

    load_before = os.getloadavg()
    model = benchmark_model(n_qubits, depth)
    features, params = benchmark_inputs(model, batch_size, seed)
    # TF's one-off runtime start-up is not any circuit's compilation time
    tf.function(lambda t: t + 1.0)(tf.constant(0.0)).numpy()

    rows, checks, notes = [], [], []
    step_label = "forward + gradient"
    timing, _ = _run_qgan(model, features, params, repeats, warmup, tf.complex64)
    c64 = timing.outputs
    rows.append(_row("qgan", step_label, "complex64", "cnot", batch_size, timing))
    if complex128:
        timing, reference_step = _run_qgan(model, features, params, repeats, warmup, tf.complex128)
        c128 = timing.outputs
        rows.append(_row("qgan", step_label, "complex128", "cnot", batch_size, timing))
    else:
        reference_step = qgan_step(model, tf.complex128)
    references: dict[int, dict] = {}

    def reference(batch: int) -> dict:
        """Our complex128 outputs on the first ``batch`` samples (the agreement reference)."""
        if batch not in references:
            x = tf.constant(features[:batch], tf.float64)
            references[batch] = to_host(reference_step(x, tf.constant(params, tf.float64)))
        return references[batch]

    if complex128:
        references[batch_size] = c128
        checks.append({"simulator": "qgan complex64", **agreement(c64, c128, "complex64")})
    if xla:
        try:
            timing, _ = _run_qgan(
                model, features, params, repeats, warmup, tf.complex64, jit_compile=True
            )
            out = timing.outputs
            rows.append(_row("qgan (XLA)", step_label, "complex64", "cnot", batch_size, timing))
            checks.append(
                {
                    "simulator": "qgan (XLA) complex64",
                    **agreement(out, reference(batch_size), "complex64"),
                }
            )
        except Exception as err:  # noqa: BLE001 - an XLA failure is reported, not fatal
            notes.append(f"qgan (XLA) skipped: {type(err).__name__}: {str(err)[:200]}")
    for entangler in entanglers:
        if entangler == "cnot":
            continue
        other = benchmark_model(n_qubits, depth, entangler)
        timing, _ = _run_qgan(other, features, params, repeats, warmup, tf.complex64)
        rows.append(_row("qgan", step_label, "complex64", entangler, batch_size, timing))

    result = {
        "circuit": {
            "n_qubits": n_qubits,
            "depth": depth,
            "n_params": model.n_params,
            "structure": model.structure_key,
            "description": "re-uploading encoding RY(x_q) before every layer; per layer RY, RZ "
            "on every qubit, then the entangler on the ring; <Z_q> readout",
        },
        "step": "forward + gradient of sum(expectation values) w.r.t. params and features",
        "settings": {
            "batch_size": batch_size,
            "baseline_batch_size": baseline_batch,
            "repeats": repeats,
            "baseline_repeats": baseline_repeats,
            "warmup": warmup,
            "seed": seed,
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        },
        "versions": versions(),
    }
    if stages:
        log.info("stage timings")
        result["stages"] = stage_timings(model, features, params, repeats, warmup)
    if profile:
        log.info("op profile")
        step = qgan_step(model, tf.complex64)
        x, p = tf.constant(features, tf.float32), tf.constant(params, tf.float32)
        try:
            result["op_profile"] = op_profile(lambda: step(x, p), steps=min(repeats, 20))
        except Exception as err:  # noqa: BLE001 - profiling is a diagnosis, not the benchmark
            notes.append(f"op profile skipped: {type(err).__name__}: {str(err)[:200]}")

    for name in baselines:
        label, runner = RUNNERS[name]
        # default.qubit is vectorised and jitted; the others loop over samples in Python
        batch, reps, warm = (
            (batch_size, repeats, warmup)
            if name == "default.qubit"
            else (baseline_batch, baseline_repeats, min(warmup, 1))
        )
        log.info("%s, batch %d", label, batch)
        try:
            timing, out, dtype, step = runner(model, features[:batch], params, reps, warm)
        except ImportError as err:
            notes.append(f"{label} skipped: not installed ({err}); pip install -e '.[bench]'")
            continue
        except Exception as err:  # noqa: BLE001 - a third-party baseline failing is reported
            notes.append(f"{label} skipped: {type(err).__name__}: {str(err)[:200]}")
            continue
        rows.append(_row(label, step, dtype, "cnot", batch, timing))
        checks.append({"simulator": label, **agreement(out, reference(batch), dtype)})

    ours = rows[0]
    result.update(
        rows=[asdict(r) for r in rows],
        agreement=checks,
        notes=notes,
        load_average={"before": list(load_before), "after": list(os.getloadavg())},
    )
    if target is not None:
        result["target"] = check_target(target, ours)
    return result


def check_target(target: dict, ours: Row) -> dict:
    """``target`` (``us_per_sample``, ``compile_s``: the ``[qubit]`` table of
    ``targets.toml``) against our complex64 row: the bounds, the measured values, ``met``."""
    bound_us, bound_s = float(target["us_per_sample"]), float(target["compile_s"])
    return {
        "us_per_sample": bound_us,
        "compile_s": bound_s,
        "qgan_complex64_us_per_sample": ours.us_per_sample,
        "qgan_complex64_first_call_s": ours.first_call_s,
        "met": ours.us_per_sample <= bound_us and ours.first_call_s <= bound_s,
    }


def format_report(result: dict, machine: dict | None = None) -> str:
    """Markdown of a :func:`bench_qubit` result (``machine``:
    :func:`qgan._machine.machine_info`)."""
    c, s = result["circuit"], result["settings"]
    lines = ["# Qubit simulator benchmark: forward + gradient", ""]
    if result.get("command"):
        lines += [f"`{result['command']}`", ""]
    if machine:
        lines += [
            f"{machine['date']}, {machine['cpu']}, {machine['cores']} cores, "
            f"Python {machine['python']}."
        ]
    v = result["versions"]
    lines += [
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        f"Load average (1, 5, 15 min) before {_fmt_load(result['load_average']['before'])}, "
        f"after {_fmt_load(result['load_average']['after'])}; OMP_NUM_THREADS="
        f"{s['OMP_NUM_THREADS']}.",
        "",
        f"Circuit: {c['n_qubits']} qubits, depth {c['depth']}, {c['n_params']} parameters: "
        f"{c['description']}. Step: {result['step']}; compilation = the first call (tracing "
        f"and compiling); then {s['warmup']} warm-up calls and the timed repeats (median, "
        "IQR). cirq.Simulator: forward only.",
        "",
        "| simulator | step | dtype | entangler | batch | us / sample (median) | IQR us / sample "
        "| ms / call (median) | first call s (compile) | repeats |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['simulator']} | {r['step']} | {r['dtype']} | {r['entangler']} | "
            f"{r['batch_size']} | {r['us_per_sample']:,.1f} | {r['iqr_us_per_sample']:,.1f} | "
            f"{r['median_s'] * 1e3:,.2f} | {r['first_call_s']:.2f} | {r['repeats']} |"
        )
    t = result.get("target")
    if t is not None:
        verdict = "met" if t["met"] else "missed"
        lines += [
            "",
            f"Target (`targets.toml` [qubit]): at most {t['us_per_sample']:g} us per sample "
            f"with at most {t['compile_s']:g} s of compilation. qgan complex64: "
            f"{t['qgan_complex64_us_per_sample']:,.1f} us per sample, first call "
            f"{t['qgan_complex64_first_call_s']:.2f} s: **{verdict}**.",
        ]
    lines += [
        "",
        "## Agreement",
        "",
        "max |theirs - ours| / max(1, max |ours|), ours = qgan complex128 on the same inputs.",
        "",
        "| simulator | expectations | grad params | grad features | tolerance | agrees |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for a in result["agreement"]:
        cells = " | ".join(f"{a['errors'][q]:.1e}" if q in a["errors"] else "-" for q in QUANTITIES)
        lines.append(
            f"| {a['simulator']} | {cells} | {a['tolerance']:.0e} | "
            f"{'yes' if a['ok'] else '**NO**'} |"
        )
    if result.get("stages"):
        lines += [
            "",
            "## Stages (qgan complex64)",
            "",
            "| stage | batch | ms / call | us / sample |",
            "|---|---:|---:|---:|",
        ]
        for st in result["stages"]:
            lines.append(
                f"| {st['stage']} | {st['batch_size']} | {st['ms_per_call']:,.2f} | "
                f"{st['us_per_sample']:,.1f} |"
            )
    prof = result.get("op_profile")
    if prof:
        lines += [
            "",
            "## TensorFlow op profile (qgan complex64, forward + both gradients)",
            "",
            f"Wall {prof['wall_us_per_step']:,.0f} us per step under the profiler; op time "
            f"{prof['op_us_per_step']:,.0f} us per step summed over threads. Top op types:",
            "",
            "| phase | op type | us / step | share of op time | ops / step |",
            "|---|---|---:|---:|---:|",
        ]
        for op in prof["ops"]:
            lines.append(
                f"| {op['phase']} | {op['op_type']} | {op['us_per_step']:,.0f} | "
                f"{op['share']:.0%} | {op['count_per_step']:.0f} |"
            )
    for note in result["notes"]:
        lines += ["", f"note: {note}"]
    return "\n".join(lines) + "\n"


def _fmt_load(values) -> str:
    return "/".join(f"{v:.1f}" for v in values)


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
