"""Specification: the generator's circuit on SF's ``tf`` backend beside the compiled engine
(``qgan.profiling.sf_baseline``).

The three paths (compiled, SF batch mode, SF one run per sample) are timed with the
injected clock, in that order, and every time and ratio is derived from it. The two
backends' kets for the same circuit and arguments agree to the engine's amplitude
tolerance (the oracle check).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from qgan.gan.config import load_config
from qgan.profiling.sf_baseline import sf_baseline

ROOT = Path(__file__).resolve().parents[2]
BATCH, REPEATS, LOOP, COMPILED_REPEATS = 3, 2, 2, 2
COMPILED = [5.0, 0.0004, 0.0002]
SF_BATCH = [0.9, 0.3, 0.5]
SF_LOOP = [0.2, 0.06, 0.08]


@pytest.fixture(scope="module")
def cfg(tiny_config):
    return tiny_config(**{"train.batch_size": 4})


@pytest.fixture(scope="module")
def baseline(cfg, scripted_clock):
    """One baseline run with a scripted clock, and how many durations it consumed."""
    clock = scripted_clock(COMPILED + SF_BATCH + SF_LOOP)
    result = sf_baseline(
        cfg,
        BATCH,
        REPEATS,
        LOOP,
        compiled_repeats=COMPILED_REPEATS,
        warmup=0,
        clock=clock,
        progress=False,
    )
    return result, clock.used


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_result_keys(baseline):
    result, _ = baseline
    assert set(result) == {
        "circuit",
        "circuit_details",
        "step",
        "batch",
        "loop_samples",
        "sf_batch_us_per_sample",
        "sf_batch_first_call_s",
        "sf_batch_repeats",
        "sf_loop_us_per_sample",
        "sf_loop_first_call_s",
        "compiled_us_per_sample",
        "compiled_first_call_s",
        "compiled_repeats",
        "ratio_batch",
        "ratio_loop",
        "max_state_difference",
    }
    assert isinstance(result["circuit"], str) and "2 modes" in result["circuit"]
    details = result["circuit_details"]
    assert (details["n_modes"], details["n_layers"], details["cutoff"]) == (2, 1, 3)
    assert result["batch"] == BATCH and result["loop_samples"] == LOOP


def test_times_and_ratios_derive_from_the_clock(baseline):
    result, used = baseline
    assert used == len(COMPILED + SF_BATCH + SF_LOOP)  # loop: 1 untimed-apart + LOOP samples
    compiled = np.median(COMPILED[1:]) / BATCH * 1e6
    sf_batch = np.median(SF_BATCH[1:]) / BATCH * 1e6
    sf_loop = np.median(SF_LOOP[1:]) * 1e6  # one sample per run
    assert result["compiled_us_per_sample"] == pytest.approx(compiled)
    assert result["sf_batch_us_per_sample"] == pytest.approx(sf_batch)
    assert result["sf_loop_us_per_sample"] == pytest.approx(sf_loop)
    assert result["compiled_first_call_s"] == pytest.approx(COMPILED[0])
    assert result["sf_batch_first_call_s"] == pytest.approx(SF_BATCH[0])
    assert result["sf_loop_first_call_s"] == pytest.approx(SF_LOOP[0])
    assert (result["compiled_repeats"], result["sf_batch_repeats"]) == (
        COMPILED_REPEATS,
        REPEATS,
    )
    assert result["ratio_batch"] == pytest.approx(sf_batch / compiled)
    assert result["ratio_loop"] == pytest.approx(sf_loop / compiled)


def test_sf_state_agrees_with_the_compiled_engine(baseline, tol):
    result, _ = baseline
    assert 0 <= result["max_state_difference"] <= tol.amplitude[tf.complex64]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"loop_samples": 0}, "^loop_samples must be an int >= 1"),
        ({"repeats": 0}, "^repeats must be an int >= 1"),
        ({"batch": 0}, "^batch must be an int >= 1"),
        ({"compiled_repeats": 0}, "^compiled_repeats must be an int >= 1"),
    ],
)
def test_bad_arguments_are_one_line_errors(cfg, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sf_baseline(cfg, **kwargs)


def test_needs_a_cv_generator():
    classical = load_config(ROOT / "configs" / "bimodal_classical.yaml")
    with pytest.raises(ValueError, match="^generator.kind: "):
        sf_baseline(classical)
