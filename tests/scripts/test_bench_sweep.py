"""Specification of ``scripts/bench/sweep.py``: the same runs made four ways (sequential
``qgan train``; ``qgan sweep`` with 1-CPU trials one at a time and concurrent; all CPUs one
at a time), each a real command; the speed-ups are quotients of the wall times; a sweep
with all CPUs per trial gives the sequential runs' metrics; a missing config is one line
before anything runs. Timings are never asserted.
"""

from __future__ import annotations

import json

import pytest
from tiny_configs import tiny_gan


@pytest.fixture(scope="module")
def sweep_bench(load_bench):
    return load_bench("sweep")


@pytest.mark.slow  # one qgan train and three one-trial sweeps (local Ray clusters)
def test_four_ways_of_the_same_runs_are_timed_and_compared(sweep_bench, tmp_path):
    config = tiny_gan(tmp_path)
    out = tmp_path / "bench"
    argv = ["--config", str(config), "--seeds", "0", "--out", str(out)]
    assert sweep_bench.main(argv) == 0
    result = json.loads(out.with_suffix(".json").read_text())
    assert result["command"] == "python scripts/bench/sweep.py " + " ".join(argv)
    ways = result["ways"]
    assert [w["way"] for w in ways] == [
        "sequential",
        "sweep, 1 CPU per trial, one at a time",
        "sweep, 1 CPU per trial, concurrent",
        f"sweep, {result['cores']} CPUs per trial, one at a time",
    ]
    for way in ways:
        assert [r["seed"] for r in way["runs"]] == [0]
        assert way["speedup_over_sequential"] == pytest.approx(ways[0]["wall_s"] / way["wall_s"])
    # a trial is the run qgan train makes: same threads, same numbers
    assert ways[3]["metrics_equal_sequential"]
    assert result["concurrent_over_one_at_a_time"] == pytest.approx(
        ways[1]["wall_s"] / ways[2]["wall_s"]
    )
    text = out.with_suffix(".md").read_text()
    assert "Concurrent sweep over the same 1-CPU trials one at a time" in text


def test_a_missing_config_is_one_line_and_writes_nothing(sweep_bench, tmp_path, capsys):
    out = tmp_path / "bench"
    assert sweep_bench.main(["--config", str(tmp_path / "nope.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sweep.py: error: --config: no such file") and "\n" not in err
    assert not list(tmp_path.iterdir())
