"""Hardware-economy training options of ``qgan classify`` (issue 19): ``gradient:
adaptive`` (SPSA, then parameter shift), shot schedules, and the noise rehearsal.

Oracles: the circuit counts each method must run (one circuit per row forward, 2 per row
per SPSA gradient, 2 n_params per row per parameter-shift gradient), shot schedules
computed by hand, the noisy simulator's own expectations (tests/qubit/test_noise.py checks
it against cirq), and the package's IonQ estimator for the rehearsal's cost.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from qgan.classify.config import AdaptiveConfig, ShotSchedule, load_config
from qgan.classify.training import _adaptive_switch, classify, prepare


@pytest.fixture
def digits(configs_dir, tiny):
    def make(changes=None):
        return load_config(configs_dir / "digits_qubit.yaml", tiny(changes))

    return make


def _per_epoch(m, gradient):
    n_params = m["n_params"]["quantum"]
    per_row = {"spsa": 2, "parameter_shift": 2 * n_params}[gradient]
    return m["n_train"] * (1 + per_row) + m["n_validation"]


def test_adaptive_switches_at_the_latest_after_max_spsa_fraction(digits, caplog):
    cfg = digits(
        {
            "train.epochs": 4,
            "train.gradient": "adaptive",
            "train.adaptive": {"min_improvement": 0.0, "max_spsa_fraction": 0.5},
        }
    )
    with caplog.at_level(logging.INFO, logger="qgan.classify"):
        res = classify(cfg, progress=False)
    m, h = res.metrics, res.history
    assert [r["gradient"] for r in h] == ["spsa", "spsa", "parameter_shift", "parameter_shift"]
    (switch,) = m["gradient_switches"]
    assert switch["after_epoch"] == 2 and switch["rule"] == "max_spsa_fraction"
    assert h[1]["switch"] == switch
    assert any("spsa -> parameter_shift after epoch 2" in r.message for r in caplog.records)
    spsa, ps = _per_epoch(m, "spsa"), _per_epoch(m, "parameter_shift")
    assert [r["epoch_circuits"] for r in h] == [spsa, spsa, ps, ps]
    final = m["n_train"] + m["n_validation"]  # the final scores
    assert m["circuits_executed"] == 2 * spsa + 2 * ps + final
    # what parameter shift would have run for the same evaluations, all along
    assert m["circuits_parameter_shift_equivalent"] == 4 * ps + final
    assert h[0]["circuits_parameter_shift_equivalent"] == ps
    by = m["circuits_by_phase"]
    assert by["gradient/spsa"]["circuits"] == 2 * 2 * m["n_train"]
    assert (
        by["gradient/parameter_shift"]["circuits"]
        == 2 * m["n_train"] * 2 * m["n_params"]["quantum"]
    )


def test_parameter_shift_equivalent_counts_every_basis_setting(digits):
    """Two readout settings: parameter shift would run 2 n_params circuits per row for
    each of them, and the forward pass one per setting."""
    cfg = digits(
        {
            "train.epochs": 1,
            "train.gradient": "spsa",
            "model.readout_bases": ["Z" * 4, "X" * 4],
        }
    )
    m = classify(cfg, progress=False).metrics
    ps = 2 * _per_epoch(m, "parameter_shift")  # both settings
    final = 2 * (m["n_train"] + m["n_validation"])
    assert m["circuits_parameter_shift_equivalent"] == ps + final


def test_adaptive_switches_when_the_loss_stops_improving(digits):
    """min_improvement above any possible improvement: the switch comes after `window`."""
    cfg = digits(
        {
            "train.epochs": 3,
            "train.gradient": "adaptive",
            "train.adaptive": {"window": 1, "min_improvement": 5.0, "max_spsa_fraction": 1.0},
        }
    )
    m = classify(cfg, progress=False).metrics
    (switch,) = m["gradient_switches"]
    assert switch["after_epoch"] == 1 or switch["after_epoch"] == 2
    assert switch["rule"] == "min_improvement"
    assert switch["improvement_per_epoch"] < 5.0


@pytest.mark.parametrize(
    "losses, epoch, expected",
    [
        ([2.0, 1.9, 1.8], 3, None),  # 2.6 % per epoch over the window of 2: keep SPSA
        ([2.0, 1.99, 1.985], 3, "min_improvement"),  # 0.4 % per epoch
        ([2.0], 1, None),  # no window yet
        ([2.0, 1.0, 0.5, 0.25], 9, "max_spsa_fraction"),  # 9 >= int(0.9 * 10)
    ],
)
def test_the_switching_rule(losses, epoch, expected):
    why = _adaptive_switch(AdaptiveConfig(), losses, epoch, 10)
    assert (why and why["rule"]) == expected


@pytest.mark.parametrize(
    "schedule, epochs, expected",
    [
        ({"start": 100, "end": 400, "growth": "linear"}, 4, [100, 200, 300, 400]),
        ({"start": 100, "end": 1000, "growth": "step", "steps": 2}, 4, [100, 100, 1000, 1000]),
        (
            {"start": 100, "end": 300, "growth": "step", "steps": 3},
            6,
            [100, 100, 200, 200, 300, 300],
        ),
        ({"start": 500, "end": 100}, 3, [500, 300, 100]),
    ],
)
def test_shot_schedules(schedule, epochs, expected):
    s = ShotSchedule(**schedule)
    assert [s.at(e, epochs) for e in range(1, epochs + 1)] == expected


def test_shot_schedule_accounting_per_phase(digits):
    cfg = digits(
        {
            "train.epochs": 3,
            "train.gradient": "spsa",
            "train.shots": {"start": 50, "end": 250, "growth": "linear"},
        }
    )
    res = classify(cfg, progress=False)
    m, h = res.metrics, res.history
    assert [r["shots"] for r in h] == [50, 150, 250]
    per_epoch = _per_epoch(m, "spsa")
    assert [r["epoch_shots"] for r in h] == [per_epoch * s for s in (50, 150, 250)]
    phases = m["shot_phases"]
    assert [(p["shots_per_circuit"], p["first_epoch"], p["last_epoch"]) for p in phases] == [
        (50, 1, 1),
        (150, 2, 2),
        (250, 3, 3),
    ]
    assert all(p["shots_executed"] == p["circuits"] * p["shots_per_circuit"] for p in phases)
    final = m["n_train"] + m["n_validation"]
    assert m["shots_executed"] == per_epoch * (50 + 150 + 250) + final * 250


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"train.adaptive": {"window": 2}}, "train.adaptive"),
        ({"train.gradient": "spsa", "train.shots": {"start": 10}}, "train.shots"),
        (
            {"train.gradient": "spsa", "train.shots": {"start": 10, "end": 20, "growth": "exp"}},
            "train.shots",
        ),  # fmt: skip
        ({"backend": {"kind": "simulator", "noise": "aria-1"}}, "train.gradient"),
        (
            {"train.gradient": "spsa", "backend": {"kind": "simulator", "noise": "harmony"}},
            "backend",
        ),  # fmt: skip
        (
            {"train.gradient": "spsa", "backend": {"kind": "simulator", "noise": {"p1": 2}}},
            "backend",
        ),  # fmt: skip
    ],
)
def test_bad_hardware_options_are_refused_in_one_line(configs_dir, changes, key):
    with pytest.raises(ValueError) as err:
        load_config(configs_dir / "digits_qubit.yaml", changes)
    assert "\n" not in str(err.value) and key in str(err.value)


def test_noise_rehearsal_runs_the_density_matrix_simulator(digits):
    from qgan.qubit.ionq.estimate import estimate_model
    from qgan.qubit.noise import NoisyBackend

    cfg = digits(
        {
            "train.epochs": 1,
            "data.n_samples": 60,
            "train.gradient": "spsa",
            "train.shots": 200,
            "backend": {"kind": "simulator", "noise": "aria-1"},
        }
    )
    parts, clf = prepare(cfg)
    assert isinstance(clf.circuit.backend, NoisyBackend)
    x = clf.features(parts.validation.images[:5]).astype(np.float64)
    oracle = NoisyBackend("aria-1", seed=cfg.seed).expectations(
        clf.circuit.model, x, clf.circuit.params.numpy().astype(np.float64), 200
    )
    np.testing.assert_allclose(clf.circuit(x.astype(np.float32)).numpy(), oracle, atol=1e-6)
    m = classify(cfg, progress=False).metrics
    assert m["noise"]["target"] == "aria-1" and m["noise"]["p2"] == pytest.approx(0.005)
    cost = m["cost_estimate"]
    (phase,) = m["shot_phases"]
    est = estimate_model(clf.circuit.model, phase["circuits"], 200, ("qpu.aria-1",)).targets[0]
    assert cost["target"] == "qpu.aria-1" and cost["usd"] == pytest.approx(est.costs)
    assert cost["qpu_seconds"] == pytest.approx(est.seconds)
