"""Specification of ``scripts/bench/engine_overview.py``: one run drives ``qgan profile``,
the engine benchmark (compiled, eager, Piquasso where installed) and the scaling
benchmark, and sets each figure beside its target; a target holds by its direction (a
speed-up is a minimum, a time a maximum); figures measured away from the reference
configuration read "not measured"; each time target is also stated as the flop rate it
asks (the engine's counted work over the time the target leaves); the 24 GiB batch is the
largest the engine's stated memory allows; bad input is a one-line error.
Timings are never asserted.

The Piquasso baseline's leakage (``scripts/bench/piquasso_baseline.py``) is checked
against the analytic one of a product of coherent states where Piquasso is installed
(the ``[bench]`` extra).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import poisson
from tiny_configs import tiny_gan

from qgan import _resources
from qgan.profiling.reference import reference_program


@pytest.fixture(scope="module")
def overview(load_bench):
    return load_bench("engine_overview")


def test_a_bound_holds_by_its_direction(overview):
    targets = {"generator_us_per_sample": 25.0, "sf_speedup": 2000.0, "eager_over_compiled": 1.3}
    measured = {
        "generator_us_per_sample": np.float64(24.0),  # NumPy scalars, as medians are
        "sf_speedup": 1999.0,
        "eager_over_compiled": None,
    }
    rows = {r["target"]: r for r in overview.check(measured, targets)}
    json.dumps(rows)  # the report's JSON takes them
    assert rows["generator_us_per_sample"]["holds"] is True  # a time: at most the bound
    assert rows["sf_speedup"]["holds"] is False  # a speed-up: at least the bound
    assert rows["eager_over_compiled"]["holds"] is None  # not measured: neither
    assert set(rows) == set(targets)  # a target the file does not name is not checked


def test_the_24_gib_batch_is_the_largest_the_stated_memory_allows(overview):
    budget = 24 * 2**30
    batch, stated = overview.largest_batch_within(6, 6, budget)
    gates = len(reference_program(6, 2)[0].circuit)
    assert stated == _resources.state_bytes(6**6, batch, 8, gates) <= budget
    assert _resources.state_bytes(6**6, batch + 1, 8, gates) > budget


@pytest.mark.slow  # a profile, two benchmarks and the SF baseline on tiny circuits (~40 s)
def test_one_run_sets_every_figure_beside_its_target(overview, tmp_path):
    config = tiny_gan(tmp_path)
    out = tmp_path / "overview"
    argv = [
        "--config",
        str(config),
        "--cutoffs",
        "3",
        "--shapes",
        "2x3x4",
        "--circuit",
        "2x3x4",
        "--repeats",
        "1",
        "--sf-repeats",
        "1",
        "--out",
        str(out),
    ]
    assert overview.main(argv) == 0
    result = json.loads(out.with_suffix(".json").read_text())
    assert result["command"] == "python scripts/bench/engine_overview.py " + " ".join(argv)
    # the parts of one run: the profile at the config's batch, the eager comparison, scaling
    assert result["profile"]["config"]["batch"] == 32
    assert [r["backend"] for r in result["engine"]["runs"]][:3] == [
        "compiled",
        "compiled",
        "compiled-eager",
    ]
    assert [(r["n_modes"], r["cutoff"], r["batch_size"]) for r in result["circuit"]] == [(2, 3, 4)]
    # every target of the [engine] table has a row; a tiny config measures none of them
    assert {r["target"] for r in result["targets"]} == set(overview.TARGET_ROWS)
    assert all(r["measured"] is None and r["holds"] is None for r in result["targets"])
    # each time target as the rate it asks: the counted work over the time it leaves
    bounds = {r["target"]: r for r in result["targets"]}
    asks = {r["target"]: r for r in result["arithmetic"]}
    assert set(asks) == set(overview.TARGET_ROWS) - {"eager_over_compiled"}
    for row in asks.values():
        assert row["budget_ms"] == pytest.approx(row["us_per_sample_allowed"] * row["batch"] / 1e3)
        left_s = (row["budget_ms"] - (row["other_ms"] or 0.0)) / 1e3
        if left_s > 0:
            assert row["required_gflops"] == pytest.approx(row["gflop_per_step"] / left_s)
        else:
            assert row["required_gflops"] is None
    sf_us = result["profile"]["sf_baseline"]["sf_batch_us_per_sample"]
    assert asks["sf_speedup"]["us_per_sample_allowed"] == pytest.approx(
        sf_us / bounds["sf_speedup"]["bound"]
    )
    # the training step runs the generator's forward + backward: its work is counted alone
    step, generator = asks["training_step_us_per_sample"], asks["generator_us_per_sample"]
    assert step["gflop_per_step"] == generator["gflop_per_step"]
    timed = result["profile"]["step"]
    beyond = timed["step"]["median_ms"] - timed["generator"]["median_ms"]
    assert generator["other_ms"] > 0
    assert step["other_ms"] == pytest.approx(generator["other_ms"] + beyond)
    assert asks["circuit_8x4x16_us_per_sample"]["other_ms"] is None
    assert asks["circuit_8x4x16_us_per_sample"]["batch"] == 16
    text = out.with_suffix(".md").read_text()
    assert "| full training step |" in text and "not measured" in text
    assert "GFLOP/s needed" in text
    assert "## Benchmark circuit at more modes and higher cutoffs" in text


def test_a_missing_config_is_one_line_and_writes_nothing(overview, tmp_path, capsys):
    with pytest.raises(SystemExit):
        overview.main(["--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--config: no such file" in err
    assert not list(tmp_path.iterdir())


def test_piquasso_leakage_of_coherent_states_is_the_poisson_tail(load_bench):
    """No layers: the state is a product of coherent states |z_i>; its total photon
    number is Poisson with mean sum z_i^2, so the leakage at total-photon cutoff c is
    P(N >= c) (tolerance 1e-9: Piquasso computes in float64)."""
    pytest.importorskip("piquasso")
    pytest.importorskip("jax")
    baseline = load_bench("piquasso_baseline")
    z = np.array([[0.3, -0.5], [0.8, 0.1], [0.0, 1.1]])
    for cutoff in (3, 5):
        expected = np.mean(poisson.sf(cutoff - 1, np.sum(z**2, axis=1)))
        got = baseline.leakage(2, 0, cutoff, [], z)
        assert got == pytest.approx(expected, abs=1e-9)
