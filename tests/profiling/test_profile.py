"""Specification of ``qgan.profiling.profile``: the whole profile of a config as one dict.

The measurement parts are replaced by recorders here (each is specified in its own test
module; ``tests/cli/test_profile_cli.py`` runs them all for real): ``profile`` must call
each part once with the grids and repeat counts it was given, put each part's result
unchanged under its key, refuse bad arguments before measuring anything, and check the
issue's targets against the measurements.
"""

from __future__ import annotations

import pytest

from qgan.profiling import profile as profile_module
from qgan.profiling.profile import (
    GENERATOR_US_PER_SAMPLE,
    SF_SPEEDUP,
    STEP_OVER_GENERATOR,
    check_targets,
    profile,
)

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
    assert [t["name"] for t in out["targets"]] == [t["name"] for t in check_targets(out)]


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
    config = {"n_modes": 4, "cutoff": 4, "n_layers": 2, "batch": 256, **(config_overrides or {})}
    return {
        "config": config,
        "step": fake_step(**step_kwargs),
        "sf_baseline": {"ratio_batch": 1500.0},
    }


def _passed(result) -> list:
    return [t["passed"] for t in check_targets(result)]


def test_targets_compare_the_measurements_with_the_issue_bounds():
    at = _result(
        us_per_sample=GENERATOR_US_PER_SAMPLE,
        step_over_generator=STEP_OVER_GENERATOR,
        overhead_share=-0.1,
    )
    at["sf_baseline"]["ratio_batch"] = SF_SPEEDUP
    assert _passed(at) == [True, True, True, True]  # the bounds themselves pass
    over = _result(us_per_sample=50.5, step_over_generator=3.01, overhead_share=0.11)
    over["sf_baseline"]["ratio_batch"] = 999.0
    assert _passed(over) == [False, False, False, False]
    targets = check_targets(over)
    assert [t["measured"] for t in targets] == [50.5, 999.0, 3.01, 0.11]
    assert [t["op"] for t in targets] == ["<=", ">=", "<=", "<="]


def test_the_generator_target_applies_only_to_its_circuit():
    other = _result({"cutoff": 5}, us_per_sample=10.0)
    first = check_targets(other)[0]
    assert first["passed"] is None
    assert "cutoff 5" in first["note"]
    assert first["measured"] == 10.0
