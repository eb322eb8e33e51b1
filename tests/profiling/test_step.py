"""Specification of ``qgan.profiling.step``: per-stage timings of one GAN training step.

* The instrumented step is ``GANModel.train_step`` built with the profiler's stage hook;
  the bare step's hook adds no op to its graph. From the same state, the instrumented step
  returns the same losses and leaves the same weights, optimiser state and RNG state, for
  both generator-loss forms (exact outcome marginal; straight-through sample) and with a
  gradient penalty and several discriminator steps.
* ``profile_step`` reports every stage of :data:`STAGES` in order with its calls per step,
  and an overhead row that is exactly the measured step minus the stage sum; the wall
  times it reports are those its clock measured (a fake clock makes each one known).
"""

from __future__ import annotations

import numpy as np
import pytest

from qgan.gan.training import build
from qgan.profiling.profiler import BETWEEN, Profiler
from qgan.profiling.step import STAGES, call_order, instrumented_train_step, profile_step

REPEATS = 3


def _state(model) -> list[np.ndarray]:
    """Everything a training step changes: weights, optimiser slots, RNG state, step."""
    held = (
        model.g_vars
        + model.dec_vars
        + model.d_vars
        + list(model.g_opt.variables)
        + list(model.dec_opt.variables)
        + list(model.d_opt.variables)
        + [model.rng.state, model.step]
    )
    return [np.asarray(v.numpy()) for v in held]


def one_step_both_ways(model, folder) -> dict:
    """One ``train_step`` and one instrumented step, both from the same saved state."""
    saved = model.checkpoint.write(str(folder / "ckpt"))
    expected = {k: float(v) for k, v in model.train_step().items()}
    expected_state = _state(model)
    model.checkpoint.read(saved).assert_consumed()
    prof = Profiler()
    staged = instrumented_train_step(model, prof)
    got = {k: float(v) for k, v in staged().items()}
    return {
        "got": got,
        "state": _state(model),
        "expected": expected,
        "expected_state": expected_state,
        "totals": prof.totals(),  # stage entries of this one step
        "prof": prof,
        "staged": staged,
    }


def assert_same_work(both: dict, model, tol, check) -> None:
    assert set(both["got"]) == set(both["expected"])
    for key, value in both["expected"].items():
        check.scaled(both["got"][key], value, tol, what=key)
    for i, (a, b) in enumerate(zip(both["state"], both["expected_state"], strict=True)):
        if a.dtype.kind in "iu":  # RNG state and step counter: exactly the same draws
            np.testing.assert_array_equal(a, b, err_msg=f"state entry {i}")
        else:
            check.scaled(a, b, tol, what=f"state entry {i}")
    totals = both["totals"]
    assert set(totals) == {*STAGES, BETWEEN}
    assert {name: totals[name]["calls"] for name in STAGES} == expected_calls(model)


def expected_calls(model) -> dict:
    """Stage entries per step: the generator's forward passes (fake batches and its own)
    share one entry per stage; each update has its own discriminator forward, backward
    and optimizer stages."""
    updates = model.settings.d_steps + 1
    later = ("discriminator forward", "backward pass", "optimizer update")
    return {name: updates if name in later else 1 for name in STAGES}


class IntervalClock:
    """A clock whose successive (start, end) reading pairs are ``durations`` apart."""

    def __init__(self, durations):
        self.durations = list(durations)
        self.now = 100.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        if self.reads % 2 == 0:
            self.now += self.durations.pop(0)
        return self.now


@pytest.fixture(scope="module")
def marginal(tiny_config, tmp_path_factory):
    """The shrunken reference config: one step both ways, then ``profile_step`` (reusing
    the instrumented step's trace) on a clock whose every measurement is known."""
    model, *_ = build(tiny_config())
    both = one_step_both_ways(model, tmp_path_factory.mktemp("step"))
    durations = np.random.default_rng(7).uniform(0.001, 0.1, 3 + 3 * REPEATS)
    clock = IntervalClock(durations)
    result = profile_step(
        model, repeats=REPEATS, warmup=0, clock=clock, staged=both["staged"], profiler=both["prof"]
    )
    return {"model": model, "both": both, "result": result, "durations": durations, "clock": clock}


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_instrumented_step_does_the_work_of_train_step(marginal, prof_tol, check):
    assert_same_work(marginal["both"], marginal["model"], prof_tol.same_work, check)


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_same_work_with_straight_through_gradient_penalty_and_two_d_steps(
    tiny_config, tmp_path, prof_tol, check
):
    cfg = tiny_config(
        **{
            "train.outcome_gradient": "straight_through",
            "train.loss": "wgan_gp",
            "discriminator.gradient_penalty": 1.0,
            "train.d_steps": 2,
            "train.leakage_penalty": 0.0,
        }
    )
    model, *_ = build(cfg)
    assert_same_work(one_step_both_ways(model, tmp_path), model, prof_tol.same_work, check)


def _op_types(step_fn) -> list[str]:
    return [op.type for op in step_fn.get_concrete_function().graph.get_operations()]


def test_stage_hooks_vanish_from_the_bare_step(marginal):
    """The bare step is the instrumented step's code with a hook that does nothing at trace
    time: no timestamp op and no profiler accumulator in its graph, and exactly the ops of
    the instrumented graph less those the profiler adds (timestamps, accumulators)."""
    model = marginal["model"]
    bare = _op_types(model.train_step)
    staged = _op_types(marginal["both"]["staged"])
    assert "Timestamp" not in bare
    n_stage_entries = sum(expected_calls(model).values())
    assert staged.count("Timestamp") == 2 * n_stage_entries
    assert bare == _op_types(model.make_train_step())
    assert len(bare) < len(staged)


def test_stage_rows_and_overhead_arithmetic(marginal):
    result = marginal["result"]
    assert [r["stage"] for r in result["stages"]] == list(STAGES)
    step_ms = result["step"]["median_ms"]
    for row in result["stages"]:
        assert set(row) == {"stage", "median_ms", "q25_ms", "q75_ms", "calls", "share"}
        assert 0.0 <= row["q25_ms"] <= row["median_ms"] <= row["q75_ms"]
        assert row["share"] == row["median_ms"] / step_ms
    calls = {r["stage"]: r["calls"] for r in result["stages"]}
    assert calls == expected_calls(marginal["model"])
    for row in result["stages"]:
        if row["stage"] in ("circuit simulation", "backward pass"):
            assert row["median_ms"] > 0.0
    stage_sum = sum(r["median_ms"] for r in result["stages"])
    assert result["stage_sum_ms"] == stage_sum
    o = result["overhead"]
    assert o["stage"] == "overhead"
    assert o["median_ms"] == step_ms - stage_sum
    assert o["share"] == o["median_ms"] / step_ms
    parts = o["between_stages_ms"] + o["call_and_dispatch_ms"] - o["instrumentation_ms"]
    assert o["median_arithmetic_ms"] == pytest.approx(o["median_ms"] - parts, abs=1e-9)
    assert result["within_tolerance"] == (abs(o["median_ms"]) <= result["tolerance"] * step_ms)
    assert result["tolerance"] == 0.1  # the requirement: within 10 %
    assert (result["repeats"], result["warmup"]) == (REPEATS, 0)


def test_wall_times_are_the_clock_measurements(marginal):
    result, durations, clock = marginal["result"], marginal["durations"], marginal["clock"]
    assert clock.durations == []  # every planned measurement was taken, and nothing else
    first, timed = durations[:3], list(durations[3:])
    series = {"step": [], "instrumented": [], "generator": []}
    for i in range(REPEATS):
        for name in call_order(i):  # rotated each repeat
            series[name].append(timed.pop(0))
    series = {k: np.array(v) for k, v in series.items()}
    assert [call_order(i)[0] for i in range(3)] == ["step", "instrumented", "generator"]
    keys = {"step": "step", "instrumented": "instrumented_step", "generator": "generator"}
    for (name, values), first_s in zip(series.items(), first, strict=True):
        key = keys[name]
        q25, med, q75 = np.percentile(values * 1e3, [25, 50, 75])
        got = result[key]
        np.testing.assert_allclose(
            [got["median_ms"], got["q25_ms"], got["q75_ms"], got["first_call_s"]],
            [med, q25, q75, first_s],
            rtol=1e-12,
        )
    batch = result["batch"]
    gen_ms = np.median(series["generator"]) * 1e3
    assert result["generator"]["us_per_sample"] == pytest.approx(gen_ms * 1e3 / batch)
    assert result["step"]["us_per_sample"] == pytest.approx(np.median(series["step"]) * 1e6 / batch)
    assert result["step_over_generator"] == pytest.approx(
        np.median(series["step"]) / np.median(series["generator"])
    )
    assert result["overhead"]["instrumentation_ms"] == pytest.approx(
        result["instrumented_step"]["median_ms"] - result["step"]["median_ms"]
    )


def test_bad_arguments_are_one_line_errors(marginal):
    model = marginal["model"]
    with pytest.raises(ValueError, match="repeats"):
        profile_step(model, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        profile_step(model, warmup=-1)
    with pytest.raises(ValueError, match="staged and profiler"):
        profile_step(model, profiler=Profiler())


def test_a_classical_generator_is_refused(tiny_config):
    cfg = tiny_config(
        **{"generator.kind": "classical", "generator.n_outcomes": 2, "generator.sample_modes": None}
    )
    model, *_ = build(cfg)
    with pytest.raises(ValueError, match="generator.kind"):
        instrumented_train_step(model, Profiler())
