"""Specification of ``scripts/bench/engine.py`` on a tiny circuit (2 modes, 1 layer,
cutoff 3): one run per backend and batch (and the compiled engine called eagerly) with
statistics that follow their definitions, the
speed-up ratios are the quotients of the runs' per-sample times, the two backends' kets
agree (complex64), the report records the command that made it, and a Piquasso baseline
that is not installed is a note naming the missing module. Timings are never asserted.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

TINY = dict(cutoff=3, n_layers=1, n_modes=2, batch_size=4, sf_batch_size=2, repeats=2)


@pytest.fixture(scope="module")
def engine(load_bench):
    return load_bench("engine")


@pytest.fixture(scope="module")
def result(engine):
    return engine.bench_engine(**TINY, sf_repeats=1, include_piquasso=False)


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_one_run_per_backend_and_batch(result):
    assert [(r["backend"], r["batch_size"]) for r in result["runs"]] == [
        ("compiled", 4),
        ("compiled", 2),
        ("compiled-eager", 4),
        ("sf-tf", 2),
    ]
    for r in result["runs"]:
        assert 0 < r["q25_s"] <= r["median_s"] <= r["q75_s"]
        assert r["us_per_sample"] == pytest.approx(r["median_s"] / r["batch_size"] * 1e6)
        assert r["repeats"] == (1 if r["backend"] == "sf-tf" else TINY["repeats"])


def test_ratios_are_quotients_of_the_runs(result):
    us = {(r["backend"], r["batch_size"]): r["us_per_sample"] for r in result["runs"]}
    assert result["ratios"] == pytest.approx(
        {
            "compiled-eager@4 / compiled@4": us["compiled-eager", 4] / us["compiled", 4],
            "sf-tf@2 / compiled@4": us["sf-tf", 2] / us["compiled", 4],
            "sf-tf@2 / compiled@2": us["sf-tf", 2] / us["compiled", 2],
        }
    )


def test_backends_agree(result, tol):
    import tensorflow as tf

    assert result["max_abs_ket_difference"] <= tol.amplitude[tf.complex64]


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_missing_piquasso_is_a_note_naming_it(engine, monkeypatch):
    monkeypatch.setitem(sys.modules, "piquasso", None)  # import piquasso -> ImportError
    missing = "jax" if importlib.util.find_spec("jax") is None else "piquasso"  # first import
    out = engine.bench_engine(**TINY, include_sf=False, include_piquasso=True)
    assert [r["backend"] for r in out["runs"]] == ["compiled", "compiled", "compiled-eager"]
    assert out["notes"] == [f"piquasso baseline skipped: {missing} is not installed"]
    assert list(out["ratios"]) == ["compiled-eager@4 / compiled@4"]  # no SF: no speed-up


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_script_writes_markdown_and_json(engine, tmp_path):
    argv = ["--modes", "2", "--layers", "1", "--cutoff", "3", "--batch-size", "4"]
    argv += ["--repeats", "1", "--no-sf", "--no-piquasso", "--out", str(tmp_path / "b")]
    assert engine.main(argv) == 0
    payload = json.loads((tmp_path / "b.json").read_text())
    text = (tmp_path / "b.md").read_text()
    command = "python scripts/bench/engine.py " + " ".join(argv)
    assert payload["command"] == command
    assert text.splitlines()[:3] == [
        "# Compiled Fock engine vs Strawberry Fields",
        "",
        f"`{command}`",
    ]
    assert payload["machine"]["cpu"] in text
    with pytest.raises(SystemExit):
        engine.main(["--cutoff", "1"])
