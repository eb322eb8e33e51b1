"""Specification of ``qgan.profiling.performance``: the whole profile of a config as one dict.

The measurement parts are replaced by recorders here (each is specified in its own test
module; ``tests/cli/test_profile_cli.py`` runs them all for real): ``profile`` must call
each part once with the grids and repeat counts it was given, put each part's result
unchanged under its key, refuse bad arguments before measuring anything, and check the
targets it is given (the ``[profile]`` table of scripts/bench/targets.toml) against the
measurements, or none.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from qgan.profiling import performance as profile_module
from qgan.profiling.performance import check_targets, load_targets, profile

TARGETS_FILE = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "targets.toml"
with open(TARGETS_FILE, "rb") as _f:
    TARGETS = tomllib.load(_f)["profile"]  # read here with tomllib, not by the library

PARTS = {  # key in the result -> (module attribute patched, function name)
    "step": (profile_module, "_step"),
    "batch_scaling": (profile_module.scaling, "batch_scaling"),
    "sweep": (profile_module.scaling, "cutoff_layer_sweep"),
    "sf_baseline": (profile_module.sf_baseline, "sf_baseline"),
    "efficiency": (profile_module.throughput, "efficiency"),
}


def fake_step(us_per_sample=40.0, step_over_generator=2.0, overhead_share=0.05):
    return {
        "generator": {"us_per_sample": us_per_sample},
        "step_over_generator": step_over_generator,
        "overhead": {"share": overhead_share},
        "tolerance": 0.1,
    }


@pytest.fixture
def recorded(monkeypatch):
    """Replace every part by a recorder returning a distinct object; ``calls`` logs them."""
    calls = {}
    results = {
        "step": fake_step(),
        "batch_scaling": [{"part": "batch"}],
        "sweep": [{"part": "sweep"}],
        "sf_baseline": {"ratio_batch": 2000.0},
        "efficiency": {"part": "efficiency"},
    }
    for key, (module, name) in PARTS.items():

        def recorder(*args, _key=key, **kwargs):
            calls[_key] = (args, kwargs)
            return results[_key]

        monkeypatch.setattr(module, name, recorder)
    return calls, results


def test_every_part_is_measured_once_with_the_given_settings(recorded, tiny_config):
    calls, results = recorded
    cfg = tiny_config()
    out = profile(
        cfg,
        batch_sizes=[2, 8],
        cutoffs=[2, 3],
        layers=[1],
        repeats=4,
        quality=True,
        warmup=1,
        quality_steps=5,
        sf_repeats=2,
        sf_loop_samples=3,
        progress=False,
        targets=TARGETS,
    )
    for key, value in results.items():
        assert out[key] is value
    batch = cfg.train.batch_size
    assert calls["step"][0] == (cfg, 4, 1)
    assert calls["batch_scaling"][0] == (cfg, (2, 8), 4, 1)
    assert calls["sweep"][0] == (cfg, (2, 3), (1,), 4, True, 5)
    assert calls["sweep"][1]["warmup"] == 1
    assert calls["sf_baseline"][0] == (cfg, batch, 2, 3)
    assert calls["sf_baseline"][1]["compiled_repeats"] == 4
    assert calls["efficiency"][0] == (cfg, batch, 4)
    assert out["settings"] == {
        "batch_sizes": [2, 8],
        "cutoffs": [2, 3],
        "layers": [1],
        "repeats": 4,
        "warmup": 1,
        "quality": True,
        "quality_steps": 5,
        "sf_repeats": 2,
        "sf_loop_samples": 3,
    }
    assert {"cpu", "cores", "python", "tensorflow", "strawberryfields", "numpy", "date"} <= set(
        out["machine"]
    )
    assert out["config"]["name"] == cfg.name
    assert out["config"]["batch"] == batch
    assert out["wall_time_s"] >= 0.0
    assert out["targets"] == check_targets(out, TARGETS)
    assert len(out["targets"]) == 4


def test_without_targets_nothing_is_checked(recorded, tiny_config):
    out = profile(tiny_config(), batch_sizes=[2], cutoffs=[2], layers=[1], progress=False)
    assert out["targets"] == []


def test_targets_file_is_read_and_checked(tmp_path):
    assert load_targets(TARGETS_FILE) == TARGETS
    bad = tmp_path / "t.toml"
    bad.write_text("[profile]\nsf_speedup = 10\n")
    with pytest.raises(ValueError, match="generator_us_per_sample") as err:
        load_targets(bad)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="no .profile. table"):
        bad.write_text("[qubit]\nus_per_sample = 1\n")
        load_targets(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_targets(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch_sizes": []}, "batch_sizes"),
        ({"batch_sizes": [0]}, "batch_sizes"),
        ({"batch_sizes": ["4"]}, "batch_sizes"),
        ({"cutoffs": [1, 3]}, "cutoffs"),
        ({"layers": [-1]}, "layers"),
        ({"repeats": 0}, "repeats"),
        ({"warmup": -1}, "warmup"),
        ({"quality_steps": 0}, "quality_steps"),
        ({"sf_repeats": 0}, "sf_repeats"),
        ({"sf_loop_samples": True}, "sf_loop_samples"),
    ],
)
def test_bad_arguments_are_refused_before_measuring(recorded, tiny_config, kwargs, name):
    calls, _ = recorded
    with pytest.raises(ValueError, match=name):
        profile(tiny_config(), progress=False, **kwargs)
    assert calls == {}


@pytest.mark.parametrize(
    "overrides, key",
    [
        (
            {
                "generator.kind": "classical",
                "generator.n_outcomes": 2,
                "generator.sample_modes": None,
            },
            "generator.kind",
        ),
        ({"generator.backend": "sf"}, "generator.backend"),
    ],
)
def test_configs_the_profiler_cannot_time_are_refused(recorded, tiny_config, overrides, key):
    calls, _ = recorded
    with pytest.raises(ValueError, match=key):
        profile(tiny_config(**overrides), progress=False)
    assert calls == {}


def _result(config_overrides=None, **step_kwargs):
    config = {**TARGETS["circuit"], **(config_overrides or {})}
    return {
        "config": config,
        "step": fake_step(**step_kwargs),
        "sf_baseline": {"ratio_batch": 1500.0},
    }


def _passed(result) -> list:
    return [t["passed"] for t in check_targets(result, TARGETS)]


def test_targets_compare_the_measurements_with_the_file_bounds():
    at = _result(
        us_per_sample=TARGETS["generator_us_per_sample"],
        step_over_generator=TARGETS["step_over_generator"],
        overhead_share=-0.1,
    )
    at["sf_baseline"]["ratio_batch"] = TARGETS["sf_speedup"]
    assert _passed(at) == [True, True, True, True]  # the bounds themselves pass
    us, ratio = TARGETS["generator_us_per_sample"] * 1.01, TARGETS["sf_speedup"] * 0.999
    step = TARGETS["step_over_generator"] * 1.01
    over = _result(us_per_sample=us, step_over_generator=step, overhead_share=0.11)
    over["sf_baseline"]["ratio_batch"] = ratio
    assert _passed(over) == [False, False, False, False]
    targets = check_targets(over, TARGETS)
    assert [t["measured"] for t in targets] == [us, ratio, step, 0.11]
    assert [t["op"] for t in targets] == ["<=", ">=", "<=", "<="]


def test_the_generator_target_applies_only_to_its_circuit():
    other = _result({"cutoff": TARGETS["circuit"]["cutoff"] + 1}, us_per_sample=10.0)
    first = check_targets(other, TARGETS)[0]
    assert first["passed"] is None
    assert f"cutoff {TARGETS['circuit']['cutoff'] + 1}" in first["note"]
    assert first["measured"] == 10.0
