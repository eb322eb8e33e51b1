"""``qgan.qubit.ionq.estimate``: circuits, shots, native gates, cost and time of a run.

Oracles: the price formulas written out here by hand from the published lists (the
issue's "Aria: about $0.00022 per 1-qubit and $0.00098 per 2-qubit gate-shot, $1 minimum
per circuit"), and native gate counts recounted from the compiled circuits.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qgan.qubit import QubitModel
from qgan.qubit.ionq import compile as ionq_compile
from qgan.qubit.ionq import estimate as est


def recount(circuit: cirq.Circuit) -> tuple[int, int]:
    ops = [op for op in circuit.all_operations() if not cirq.is_measurement(op)]
    return sum(len(op.qubits) == 1 for op in ops), sum(len(op.qubits) == 2 for op in ops)


def aria_by_hand(n1: int, n2: int, shots: int) -> float:
    return max(1.0, shots * (0.00022 * n1 + 0.00098 * n2))


def test_published_figures_are_the_ones_used():
    aria = est.TARGETS["qpu.aria-1"]
    price = aria.prices["gate-shot"]
    assert (price.one_qubit, price.two_qubit, price.minimum_per_circuit) == (
        0.00022,
        0.00098,
        1.0,
    )
    assert aria.gate_times.one_qubit_s == 135e-6 and aria.gate_times.two_qubit_s == 600e-6
    assert est.TARGETS["simulator"].prices == {}
    for facts in est.TARGETS.values():  # every figure says where it comes from
        for item in [*facts.prices.values(), facts.gate_times]:
            assert item is None or item.source


@pytest.mark.parametrize("n1, n2, shots", [(10, 2, 100), (96, 28, 1000), (0, 0, 1)])
def test_gate_shot_price(n1, n2, shots, itol):
    got = est.ARIA_PRICE.cost(n1, n2, shots)
    assert got == pytest.approx(aria_by_hand(n1, n2, shots), rel=itol.cost_rel)


def test_task_shot_price_and_timing(itol):
    assert est.ARIA_BRAKET.cost(50, 50, 1000) == pytest.approx(0.30 + 1000 * 0.03)
    t = est.ARIA_GATE_TIMES.seconds(10, 4, 200)
    assert t == pytest.approx(200 * (10 * 135e-6 + 4 * 600e-6 + 100e-6 + 25e-6), rel=itol.cost_rel)


def test_estimate_of_circuits_counts_the_compiled_gates(itol):
    rng = np.random.default_rng(0)
    model = QubitModel(4, 2, entangler="cnot", topology="ring")
    circuits = [
        model.to_cirq(rng.uniform(-3, 3, 4), rng.uniform(-3, 3, model.n_params), measure=True)
        for _ in range(3)
    ]
    shots = 500
    estimate = est.estimate_circuits(circuits, shots)
    by_target = {t.target: t for t in estimate.targets}
    assert set(by_target) == set(est.TARGETS)
    for name, row in by_target.items():
        counts = [recount(ionq_compile(c, row.gateset)) for c in circuits]
        assert row.circuits == 3 and row.shots == shots and row.total_shots == 3 * shots
        assert (row.one_qubit, row.two_qubit) == tuple(np.sum(counts, axis=0))
        if name.startswith("qpu.aria"):
            want = sum(aria_by_hand(a, b, shots) for a, b in counts)
            assert row.costs["gate-shot"] == pytest.approx(want, rel=itol.cost_rel)
            assert row.costs["Braket"] == pytest.approx(3 * (0.30 + shots * 0.03))
        if name == "simulator":
            assert row.costs == {} and row.seconds is None
        else:
            assert row.seconds > 0


def test_estimate_of_a_model_scales_with_circuits(itol):
    model = QubitModel(8, 4, entangler="ms", measurement="z_parity")
    one = est.estimate_model(model, 1, 1000, targets=("qpu.aria-1", "qpu.forte-1"))
    many = est.estimate_model(model, 250, 1000, targets=("qpu.aria-1", "qpu.forte-1"))
    rng = np.random.default_rng(1)
    circuit = model.to_cirq(rng.uniform(-3, 3, 8), rng.uniform(-3, 3, model.n_params), True)
    for a, b in zip(one.targets, many.targets):
        assert (a.one_qubit, a.two_qubit) == recount(ionq_compile(circuit, a.gateset))
        assert b.one_qubit == 250 * a.one_qubit and b.circuits == 250
        for market in a.costs:
            assert b.costs[market] == pytest.approx(250 * a.costs[market], rel=itol.cost_rel)
        assert b.seconds == pytest.approx(250 * a.seconds, rel=itol.cost_rel)


def test_minimum_charge_per_circuit():
    x = cirq.LineQubit(0)
    tiny = [cirq.Circuit(cirq.X(x), cirq.measure(x, key="z"))] * 4
    row = est.estimate_circuits(tiny, 10, targets=("qpu.aria-1",)).targets[0]
    assert row.costs["gate-shot"] == pytest.approx(4.0)  # $1 minimum per circuit


def test_table_and_dict_name_every_target_and_source():
    model = QubitModel(2, 1)
    estimate = est.estimate_model(model, 10, 100)
    table = estimate.table()
    for name in est.TARGETS:
        assert f"| {name} |" in table
    data = estimate.as_dict()
    assert len(data["targets"]) == len(est.TARGETS)
    assert any("learn.microsoft.com" in s for s in data["sources"])


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda m: est.estimate_model(m, 0, 10), "n_circuits"),
        (lambda m: est.estimate_model(m, 5, 0), "shots"),
        (lambda m: est.estimate_model(m, 5, 10, targets=("qpu.harmony",)), "targets"),
        (lambda m: est.estimate_circuits([], 10), "circuits"),
    ],
)
def test_bad_arguments(call, name, one_line_naming):
    with pytest.raises(ValueError) as err:
        call(QubitModel(2, 1))
    one_line_naming(err, name)
