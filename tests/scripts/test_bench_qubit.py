"""Specification of ``scripts/bench/qubit.py`` and its helpers (``qubit_baselines.py``,
``qubit_diagnostics.py``) on a tiny
case (2 qubits, depth 1, batch 4): the structure of the result (one row per simulator
configuration, statistics consistent with their definitions), the timed step is the
stated computation (finite differences), the agreement check passes for baselines that
compute the same circuit and fails for one that does not, and a baseline that is not
installed is skipped with a note, and the target verdict comes from the targets file.
Timings are never asserted (benchmarks are scripts). The scripts are loaded by path
(``load_bench``, tests/scripts/conftest.py).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(n_qubits=2, depth=1, batch_size=4, repeats=3, warmup=1, baseline_repeats=2)
LEAN = dict(xla=False, stages=False, profile=False)


@pytest.fixture(scope="module")
def qb(load_bench):
    """The helpers module ``scripts/bench/qubit_baselines.py``."""
    return load_bench("qubit_baselines")


@pytest.fixture(scope="module")
def bench(load_bench):
    """The script ``scripts/bench/qubit.py`` (the driver, the target, the report)."""
    return load_bench("qubit")


@pytest.fixture(scope="module")
def diag(load_bench):
    """``scripts/bench/qubit_diagnostics.py`` (stage timings, op profile)."""
    return load_bench("qubit_diagnostics")


@pytest.fixture(scope="module")
def qubit_target():
    """The ``[qubit]`` table of scripts/bench/targets.toml, read here with tomllib."""
    with open(ROOT / "scripts" / "bench" / "targets.toml", "rb") as f:
        return tomllib.load(f)["qubit"]


@pytest.fixture(scope="module")
def result(bench, qubit_target):
    return bench.bench_qubit(
        **TINY, **LEAN, baselines=("cirq",), entanglers=("cnot", "zz"), target=qubit_target
    )


@pytest.fixture(scope="module")
def tiny(qb):
    model = qb.benchmark_model(2, 1)
    features, params = qb.benchmark_inputs(model, 4, seed=0)
    return model, features, params


def reference(qb, model, features, params) -> dict:
    """Our complex128 step's outputs as NumPy (the agreement reference)."""
    step = qb.qgan_step(model, tf.complex128)
    out = step(tf.constant(features, tf.float64), tf.constant(params, tf.float64))
    return {k: v.numpy() for k, v in out.items()}


# --------------------------------------------------------------------------- result


def test_one_row_per_configuration(result):
    got = [(r["simulator"], r["dtype"], r["entangler"], r["step"]) for r in result["rows"]]
    assert got == [
        ("qgan", "complex64", "cnot", "forward + gradient"),
        ("qgan", "complex128", "cnot", "forward + gradient"),
        ("qgan", "complex64", "zz", "forward + gradient"),
        ("cirq.Simulator", "complex64", "cnot", "forward"),
    ]


def test_row_statistics_follow_their_definitions(result):
    for r in result["rows"]:
        assert r["batch_size"] == TINY["batch_size"]
        assert r["repeats"] == (TINY["baseline_repeats"] if r["simulator"] != "qgan" else 3)
        assert 0 < r["q25_s"] <= r["median_s"] <= r["q75_s"]
        assert r["first_call_s"] > 0
        assert r["us_per_sample"] == pytest.approx(r["median_s"] / r["batch_size"] * 1e6)
        iqr = (r["q75_s"] - r["q25_s"]) / r["batch_size"] * 1e6
        assert r["iqr_us_per_sample"] == pytest.approx(iqr)


def test_agreement_of_every_compared_simulator(qb, result):
    checks = {a["simulator"]: a for a in result["agreement"]}
    assert set(checks) == {"qgan complex64", "cirq.Simulator"}
    assert set(checks["qgan complex64"]["errors"]) == set(qb.QUANTITIES)
    assert set(checks["cirq.Simulator"]["errors"]) == {"expectations"}  # forward only
    for check in checks.values():
        assert check["tolerance"] == qb.AGREEMENT_RTOL["complex64"]
        assert check["ok"] and all(e <= check["tolerance"] for e in check["errors"].values())


def test_target_verdict_reads_the_targets_file(result, qubit_target):
    ours = result["rows"][0]
    t = result["target"]
    bound_us, bound_s = qubit_target["us_per_sample"], qubit_target["compile_s"]
    assert (t["us_per_sample"], t["compile_s"]) == (bound_us, bound_s)
    assert t["qgan_complex64_us_per_sample"] == ours["us_per_sample"]
    met = ours["us_per_sample"] <= bound_us and ours["first_call_s"] <= bound_s
    assert t["met"] is met


@pytest.mark.parametrize("bound_us, met", [(1e9, True), (1e-9, False)])
def test_target_verdict_follows_the_bound(qb, bench, result, bound_us, met):
    """A bound no step can miss / meet gives met / missed (the verdict is not fixed)."""
    row = qb.Row(**{k: v for k, v in result["rows"][0].items() if "us_per_sample" not in k})
    assert bench.check_target({"us_per_sample": bound_us, "compile_s": 1e9}, row)["met"] is met


def test_report_without_target_omits_the_verdict(bench, result):
    text = bench.format_report({k: v for k, v in result.items() if k != "target"})
    assert "Target" not in text and "**met**" not in text and "**missed**" not in text


def test_report_lists_every_row_and_check(bench, result):
    machine = {"date": "D", "cpu": "C", "cores": 2, "python": "3"}
    text = bench.format_report({**result, "command": "python scripts/bench/qubit.py X"}, machine)
    lines = text.splitlines()
    assert lines[0] == "# Qubit simulator benchmark: forward + gradient"
    assert "`python scripts/bench/qubit.py X`" in lines
    for r in result["rows"]:
        assert any(
            line.startswith(f"| {r['simulator']} | {r['step']} | {r['dtype']} | {r['entangler']} |")
            and f"| {r['us_per_sample']:,.1f} |" in line
            for line in lines
        ), r
    for a in result["agreement"]:
        assert any(line.startswith(f"| {a['simulator']} | ") for line in lines)
    verdict = "met" if result["target"]["met"] else "missed"
    assert f"**{verdict}**" in text


# --------------------------------------------------------------------------- the timed step


def test_step_is_the_gradient_of_the_summed_expectations(qb, tiny, tol):
    """Central finite differences of sum(expectation values) in complex128."""
    model, features, params = tiny
    out = reference(qb, model, features, params)

    forward = qb.qgan_step(model, tf.complex128, wrt=("expectations",))

    def loss(x, p):
        values = forward(tf.constant(x, tf.float64), tf.constant(p, tf.float64))["expectations"]
        return float(tf.reduce_sum(values))

    h = tol.fd_step
    for key, base, shift in (
        ("grad_params", params, lambda d: (features, params + d)),
        ("grad_features", features, lambda d: (features + d, params)),
    ):
        fd = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            d = np.zeros_like(base)
            d[index] = h
            fd[index] = (loss(*shift(d)) - loss(*shift(-d))) / (2 * h)
        scale = max(1.0, float(np.max(np.abs(fd))))
        assert np.max(np.abs(out[key] - fd)) <= tol.fd_rtol * scale, key


def test_agreement_fails_for_a_different_circuit(qb, tiny, tol):
    model, features, params = tiny
    ours = reference(qb, model, features, params)
    timing, same, dtype, step = qb._cirq_runner(model, features, params, 1, 0)
    assert (dtype, step) == ("complex64", "forward") and timing.repeats == 1
    assert qb.agreement(same, ours, dtype)["ok"]
    other = qb.benchmark_model(2, 1, entangler="ms")
    _, theirs, _, _ = qb._cirq_runner(other, features, params, 1, 0)
    check = qb.agreement(theirs, ours, dtype)
    assert not check["ok"]
    assert check["errors"]["expectations"] > max(tol.nontrivial, check["tolerance"])
    with pytest.raises(ValueError, match="expectations"):
        qb.agreement({"expectations": theirs["expectations"][:2]}, ours, dtype)


def test_stage_timings_and_op_profile(qb, diag, tiny):
    model, features, params = tiny
    stages = diag.stage_timings(model, features, params, repeats=2, warmup=0)
    assert [s["batch_size"] for s in stages] == [4, 4, 4, 1]
    for s in stages:
        assert s["us_per_sample"] == pytest.approx(s["ms_per_call"] * 1e3 / s["batch_size"])
        assert s["repeats"] == diag.STAGE_ROUND  # 2 repeats: one interleaved round
    step = qb.qgan_step(model)
    x, p = tf.constant(features, tf.float32), tf.constant(params, tf.float32)
    profile = diag.op_profile(lambda: step(x, p), steps=2, top=50)
    phases = {op["phase"] for op in profile["ops"]}
    assert phases == {"forward", "gradient"}
    us = [op["us_per_step"] for op in profile["ops"]]
    assert us == sorted(us, reverse=True)
    assert sum(op["share"] for op in profile["ops"]) == pytest.approx(1.0)  # top 50: all ops


# --------------------------------------------------------------------------- baselines


def test_a_missing_baseline_is_skipped_with_a_note(bench, monkeypatch):
    monkeypatch.setitem(sys.modules, "pennylane", None)  # import pennylane -> ImportError
    monkeypatch.setitem(sys.modules, "jax", None)
    out = bench.bench_qubit(
        **TINY,
        **LEAN,
        complex128=False,
        entanglers=("cnot",),
        baselines=("default.qubit", "lightning.qubit"),
    )
    assert [r["simulator"] for r in out["rows"]] == ["qgan"]
    assert out["agreement"] == []
    assert len(out["notes"]) == 2
    for label, note in zip(("default.qubit", "lightning.qubit"), out["notes"]):
        assert label in note and "not installed" in note
    assert "note: PennyLane default.qubit" in bench.format_report(out)


def test_pennylane_baselines_compute_the_same_circuit(qb, bench):
    why = "the PennyLane baselines need the bench extra: pip install -e '.[bench]'"
    for module in ("pennylane", "jax", "pennylane_lightning"):
        pytest.importorskip(module, reason=f"{module} is not installed; {why}")
    out = bench.bench_qubit(
        **TINY, **LEAN, entanglers=("cnot",), baselines=("default.qubit", "lightning.qubit")
    )
    assert out["notes"] == []
    checks = {a["simulator"]: a for a in out["agreement"]}
    dq = checks["PennyLane default.qubit (JAX, jit, broadcast)"]
    lq = checks["PennyLane lightning.qubit (adjoint)"]
    assert dq["tolerance"] == qb.AGREEMENT_RTOL["complex64"]
    assert lq["tolerance"] == qb.AGREEMENT_RTOL["complex128"]
    for check in (dq, lq):
        assert set(check["errors"]) == set(qb.QUANTITIES) and check["ok"], check


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"repeats": 0}, "repeats"),
        ({"baseline_batch_size": 5}, "baseline_batch_size"),
        ({"baselines": ("qiskit",)}, "baselines"),
        ({"entanglers": ("cz",)}, "entanglers"),
    ],
)
def test_bad_arguments_are_one_line_errors(bench, kwargs, name):
    with pytest.raises(ValueError, match=name) as err:
        bench.bench_qubit(**{**TINY, **kwargs})
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- script


def test_script_writes_markdown_and_json(bench, tmp_path, monkeypatch):
    for var, default in (("OMP_NUM_THREADS", "1"), ("TF_CPP_MIN_LOG_LEVEL", "2")):
        monkeypatch.setenv(var, os.environ.get(var, default))  # the script's setdefault
    main = bench.main
    out = tmp_path / "bench"
    argv = [
        "--qubits",
        "2",
        "--depth",
        "1",
        "--batch-size",
        "4",
        "--repeats",
        "2",
        "--warmup",
        "0",
        "--baseline-repeats",
        "1",
        "--baselines",
        "cirq",
        "--entanglers",
        "cnot",
        "--no-xla",
        "--no-stages",
        "--no-profile",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    text = (tmp_path / "bench.md").read_text()
    payload = json.loads((tmp_path / "bench.json").read_text())
    command = "python scripts/bench/qubit.py " + " ".join(argv)
    assert text.splitlines()[:3] == [
        "# Qubit simulator benchmark: forward + gradient",
        "",
        f"`{command}`",
    ]
    assert payload["command"] == command
    assert payload["machine"]["date"] in text and payload["machine"]["cpu"] in text
    assert [r["simulator"] for r in payload["rows"]] == ["qgan", "qgan", "cirq.Simulator"]
    assert "Target (`targets.toml` [qubit])" in text and payload["target"]["us_per_sample"] > 0
    assert main(["--batch-size", "0"]) == 2
    assert main(["--targets", str(tmp_path / "missing.toml")]) == 2
