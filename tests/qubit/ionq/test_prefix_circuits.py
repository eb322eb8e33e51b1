"""``IonQBackend.prefix_expectations``: the quantum natural gradient's metric circuits
(prefix of the model, one gate per qubit, Z readout as ``z_zz``) run on IonQ.

Oracle: ``SimulatorBackend.prefix_expectations`` with exact readouts (``shots=None``,
qgan's TF state-vector simulator in complex128, itself checked against cirq in
``tests/qubit/test_qng.py``). The loopback server simulates the serialized circuits from
IonQ's gate definitions, independently of qgan and cirq; each estimate from S shots must
lie within ``itol.sampling_sigmas`` (5) standard errors of the exact readout.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qgan.qubit import QubitModel
from qgan.qubit.backends import SimulatorBackend
from qgan.qubit.ionq import IonQBackend
from qgan.qubit.ionq.budget import IonQBudgetExceeded
from qgan.qubit.ionq.estimate import ARIA_PRICE
from qgan.qubit.qng import block_gates, metric


def _rows(model: QubitModel, n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(n, model.n_features))
    p = rng.uniform(-np.pi, np.pi, size=(n, model.n_params))
    u = np.stack(
        [
            np.stack([cirq.testing.random_unitary(2, random_state=int(s)) for s in row])
            for row in rng.integers(0, 2**31, size=(n, model.n_qubits))
        ]
    )
    return x, p, u


def _posted(server) -> list[dict]:
    return [r.body for r in server.requests_to("POST", r"^/jobs$") if r.status == 200]


@pytest.mark.parametrize("gateset, entangler", [("aria", "cnot"), ("forte", "zz"), ("qis", "ms")])
def test_prefix_circuits_on_ionq_equal_the_exact_simulator_within_shot_noise(
    loopback, fast_options, gateset, entangler, shot_noise
):
    model = QubitModel(3, 2, entangler=entangler, topology="ring", measurement="z")
    n_rows, shots = 12, 4000
    x, p, u = _rows(model, n_rows, seed=7)
    layers = np.arange(n_rows) % (model.depth + 1)  # 0, 1 and 2 layers in one call
    backend = IonQBackend(gateset=gateset, **fast_options)
    got = backend.prefix_expectations(model, x, p, layers, u, shots)
    want = SimulatorBackend().prefix_expectations(model, x, p, layers, u, None)
    assert got.shape == (n_rows, 3 + 3) and got.dtype == np.float64
    assert shot_noise(got, want, shots), np.abs(got - want).max()
    # the readouts depend on the prefix: the same gates after 0 layers differ by far more
    # than the shot noise (so the comparison above can fail)
    flat = SimulatorBackend().prefix_expectations(model, x, p, 0, u, None)
    assert np.abs(flat - want)[layers > 0].max() > 0.2
    # ONE multi-circuit job holding all N circuits, at the requested shots
    (body,) = _posted(loopback)
    assert body["type"] == "ionq.multi-circuit.v1"
    assert len(body["input"]["circuits"]) == n_rows and int(body["shots"]) == shots
    if gateset != "qis":
        assert {c["gate"] for c in body["input"]["circuits"][0]["circuit"]} <= {
            "gpi",
            "gpi2",
            "ms",
            "zz",
        }


def test_qng_metric_through_ionq_is_one_job_of_two_depth_n_circuits(
    loopback, fast_options, shot_noise
):
    """The metric of qgan.qubit.qng measured on IonQ: 2 * depth * N prefix circuits in one
    job, each readout within shot noise of the exact simulator's."""
    model = QubitModel(2, 2, entangler="cnot", topology="linear", measurement="z")
    x, p, _ = _rows(model, 3, seed=1)
    shots = 3000
    layers, gates = block_gates(model, x, p[0])
    backend = IonQBackend(**fast_options)
    blocks = 2 * model.depth
    xs, ps = np.tile(x, (blocks, 1)), np.tile(p[0], (blocks * len(x), 1))
    got = backend.prefix_expectations(model, xs, ps, layers, gates, shots)
    want = SimulatorBackend().prefix_expectations(model, xs, ps, layers, gates, None)
    assert shot_noise(got, want, shots)
    (body,) = _posted(loopback)
    assert len(body["input"]["circuits"]) == blocks * 3
    g = metric(model, x, p[0], shots, backend=backend)  # same circuits: stored results
    assert g.shape == (model.n_params, model.n_params) and len(_posted(loopback)) == 1


def test_exact_prefix_readouts_are_refused_in_one_line(fast_options):
    model = QubitModel(2, 1, measurement="z")
    x, p, u = _rows(model, 2, seed=0)
    with pytest.raises(ValueError, match=r"^shots: .*None.*simulator backend") as err:
        IonQBackend(**fast_options).prefix_expectations(model, x, p, 1, u, None)
    assert "\n" not in str(err.value)


def test_prefix_circuits_are_priced_by_the_budget_guard_before_any_job(loopback, fast_options):
    """max_cost_usd below one circuit's price (the published Aria minimum per circuit): the
    N prefix circuits are refused in one line naming their count, and nothing is posted."""
    model = QubitModel(2, 1, entangler="cnot", measurement="z")
    x, p, u = _rows(model, 5, seed=2)
    limit = 0.5 * ARIA_PRICE.minimum_per_circuit
    backend = IonQBackend(target="qpu.aria-1", max_cost_usd=limit, **fast_options)
    with pytest.raises(IonQBudgetExceeded) as err:
        backend.prefix_expectations(model, x, p, 1, u, 100)
    message = str(err.value)
    assert "\n" not in message and message.startswith("max_cost_usd: 5 more circuits x 100 shots")
    assert not loopback.requests_to("POST", r"^/jobs")
