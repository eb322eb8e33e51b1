"""Fixtures for the ``qgan.qubit`` tests: tolerances and an independent Cirq oracle.

The oracle (:func:`reference_state`) builds each model circuit *from the specification in
the docstring of* ``qgan/qubit/model.py``, not from ``qgan.qubit.cirq_export``: every gate is
a ``cirq.MatrixGate`` whose matrix is written here from its definition

* ``RY(a) = exp(-i a Y / 2) = [[cos a/2, -sin a/2], [sin a/2, cos a/2]]``,
* ``RZ(b) = exp(-i b Z / 2) = diag(exp(-i b/2), exp(i b/2))``,
* ``CNOT(a, b)`` (control a, target b),
* ``MS = exp(-i pi/4 X X) = cos(pi/4) I - i sin(pi/4) X X`` (``(XX)^2 = I``),
* ``ZZ = exp(-i pi/4 Z Z) = cos(pi/4) I - i sin(pi/4) Z Z``,

and the amplitude encoding is the *initial state* ``x / |x|`` handed to
``cirq.Simulator(dtype=np.complex128)``, so the oracle shares no code with the module
under test. Qubit q is ``cirq.LineQubit(q)``; ``qubit_order=LineQubit.range(n)`` makes
qubit 0 the most significant bit of a state index (Cirq's convention, as documented).

Every numerical tolerance of these tests lives in :class:`QubitTolerances` (fixture
``qtol``); the tests never hard-code one.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import cirq
import numpy as np
import pytest

# --------------------------------------------------------------------------- tolerances


@dataclass(frozen=True)
class QubitTolerances:
    """All numerical tolerances of ``tests/qubit`` (not ``tests/qubit/ionq``).

    ``state``: max |psi - psi_ref| per amplitude, TF simulator in complex128 vs
        ``cirq.Simulator(dtype=complex128)`` or vs the exported circuit. The issue asks for
        1e-6; both sides are double precision and the circuits have at most a few hundred
        gates on <= 1024 amplitudes, so the rounding error is ~1e-14 and 1e-10 still leaves
        four orders of magnitude of margin. Global phase included (all gates are defined
        with their phase, see conftest docstring).
    ``expectation``: |<O> - <O>_ref| for readouts (<Z_q>, parity) and probabilities in
        complex128; same argument as ``state``.
    ``state_c64`` / ``expectation_c64``: the same comparisons for the complex64 simulator
        (float32 rounding, ~1e-7 per operation, accumulated over <= ~100 layers of
        matrix products).
    ``batch``: batched rows vs the same rows simulated one at a time (same kernels,
        same dtype complex128; only the reduction order of the matrix products differs).
    ``amplitude``: the Mottonen state preparation of ``cirq_export`` vs ``x / |x|``
        (complex128 Cirq simulation of <= 2**5 amplitudes and a few dozen gates).
    ``unitary``: exported Cirq gate unitaries vs the matrices written from the definitions.
    ``param_shift``: tape gradient vs the parameter-shift rule (exact for RY/RZ), complex128,
        relative to max(1, max|grad|).
    ``fd_rtol`` / ``fd_step``: tape gradient vs central finite differences (complex128):
        truncation error ~ step**2 * |f'''| / 6 ~ 1e-11 plus rounding ~ 1e-16 / step ~
        1e-11; compared relative to max(1, max|grad|).
    ``graph``: gradient inside an outer ``tf.function`` vs eager gradient (same kernels).
    ``sampling_sigmas``: a readout estimated from S shots must lie within this many
        standard errors (sqrt(1 - <O>^2) / sqrt(S), floored at 1/S) of the exact value.
    ``nontrivial``: a difference a test needs to be *visible* (e.g. that a parameter
        changes the state) must exceed this, so the test can fail.
    """

    state: float = 1e-10
    expectation: float = 1e-10
    state_c64: float = 2e-5
    expectation_c64: float = 2e-5
    batch: float = 1e-12
    amplitude: float = 1e-12
    unitary: float = 1e-12
    param_shift: float = 1e-10
    fd_rtol: float = 1e-7
    fd_step: float = 1e-5
    graph: float = 1e-12
    sampling_sigmas: float = 5.0
    nontrivial: float = 1e-3


QTOL = QubitTolerances()


@pytest.fixture(scope="session")
def qtol() -> QubitTolerances:
    return QTOL


# --------------------------------------------------------------------------- oracle

_I2 = np.eye(2, dtype=np.complex128)
_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_Z = np.diag([1.0, -1.0]).astype(np.complex128)


def ry_matrix(a: float) -> np.ndarray:
    c, s = np.cos(a / 2), np.sin(a / 2)
    return np.array([[c, -s], [s, c]], dtype=np.complex128)


def rz_matrix(b: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * b), np.exp(0.5j * b)])


CNOT_MATRIX = np.array(
    [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=np.complex128
)
MS_MATRIX = np.cos(np.pi / 4) * np.eye(4) - 1j * np.sin(np.pi / 4) * np.kron(_X, _X)
ZZ_MATRIX = np.cos(np.pi / 4) * np.eye(4) - 1j * np.sin(np.pi / 4) * np.kron(_Z, _Z)
ENTANGLER_MATRICES = {"cnot": CNOT_MATRIX, "ms": MS_MATRIX, "zz": ZZ_MATRIX}


def spec_pairs(n: int, topology: str) -> list[tuple[int, int]]:
    """Entangled pairs from the docstring: linear (q, q+1); ring adds (n-1, 0) for n >= 3;
    all_to_all every a < b in lexicographic order."""
    if topology == "all_to_all":
        return [(a, b) for a in range(n) for b in range(a + 1, n)]
    pairs = [(q, q + 1) for q in range(n - 1)]
    if topology == "ring" and n >= 3:
        pairs.append((n - 1, 0))
    return pairs


def reference_circuit(model, features, params) -> cirq.Circuit:
    """The model circuit (without amplitude preparation) from matrices, see module doc."""
    n, depth = model.n_qubits, model.depth
    x = np.asarray(features, dtype=np.float64)
    angles = np.asarray(params, dtype=np.float64).reshape(depth, n, 2)
    qs = cirq.LineQubit.range(n)
    # entangler none (the no-entanglement ablation): no two-qubit gate at all
    pairs = [] if model.entangler == "none" else spec_pairs(n, model.topology)
    ent = (
        None if model.entangler == "none" else cirq.MatrixGate(ENTANGLER_MATRICES[model.entangler])
    )
    ops = []
    if model.encoding == "angle":
        ops += [cirq.MatrixGate(ry_matrix(x[q])).on(qs[q]) for q in range(n)]
    for layer in range(depth):
        if model.encoding == "reupload":
            ops += [cirq.MatrixGate(ry_matrix(x[q])).on(qs[q]) for q in range(n)]
        for q in range(n):
            ops.append(cirq.MatrixGate(ry_matrix(angles[layer, q, 0])).on(qs[q]))
            ops.append(cirq.MatrixGate(rz_matrix(angles[layer, q, 1])).on(qs[q]))
        ops += [ent.on(qs[a], qs[b]) for a, b in pairs]
    return cirq.Circuit(ops)


def reference_state(model, features, params) -> np.ndarray:
    """Final state of one sample: [2**n] complex128 from ``cirq.Simulator``."""
    n = model.n_qubits
    qs = cirq.LineQubit.range(n)
    if model.encoding == "amplitude":
        x = np.asarray(features, dtype=np.float64)
        initial = (x / np.linalg.norm(x)).astype(np.complex128)
    else:
        initial = 0
    sim = cirq.Simulator(dtype=np.complex128)
    result = sim.simulate(
        reference_circuit(model, features, params), qubit_order=qs, initial_state=initial
    )
    return np.asarray(result.final_state_vector, dtype=np.complex128)


def reference_states(model, features, params) -> np.ndarray:
    """[N, 2**n]: one oracle run per row; ``params`` [n_params] or [N, n_params]."""
    features = np.asarray(features, dtype=np.float64)
    params = np.asarray(params, dtype=np.float64)
    rows = [params] * len(features) if params.ndim == 1 else list(params)
    return np.stack([reference_state(model, x, p) for x, p in zip(features, rows)])


def reference_readouts(model, state: np.ndarray) -> np.ndarray:
    """Readouts of one state from Cirq's Pauli-string expectations (docstring order)."""
    n = model.n_qubits
    qs = cirq.LineQubit.range(n)
    qmap = {q: i for i, q in enumerate(qs)}
    state = np.asarray(state, dtype=np.complex128)
    z = [cirq.Z(q).expectation_from_state_vector(state, qmap).real for q in qs]
    parity = [
        cirq.PauliString({q: cirq.Z for q in qs}).expectation_from_state_vector(state, qmap).real
    ]
    zz = [  # every pair a < b, lexicographic (the model docstring's z_zz order)
        cirq.PauliString({qs[a]: cirq.Z, qs[b]: cirq.Z})
        .expectation_from_state_vector(state, qmap)
        .real
        for a in range(n)
        for b in range(a + 1, n)
    ]
    return np.asarray(
        {"z": z, "parity": parity, "z_parity": z + parity, "z_zz": z + zz}[model.measurement]
    )


def random_inputs(model, rng: np.random.Generator, rows: int, per_row: bool):
    """Features [rows, n_features] and params ([rows,] n_params), angles in [-pi, pi]."""
    if model.encoding == "amplitude":
        x = rng.normal(size=(rows, model.n_features))
    else:
        x = rng.uniform(-np.pi, np.pi, size=(rows, model.n_features))
    shape = (rows, model.n_params) if per_row else (model.n_params,)
    return x, rng.uniform(-np.pi, np.pi, size=shape)


@pytest.fixture(scope="session")
def oracle():
    """The independent Cirq oracle and spec helpers (importlib mode: no conftest import)."""
    return SimpleNamespace(
        circuit=reference_circuit,
        state=reference_state,
        states=reference_states,
        readouts=reference_readouts,
        pairs=spec_pairs,
        ry=ry_matrix,
        rz=rz_matrix,
        entangler_matrices=ENTANGLER_MATRICES,
        random_inputs=random_inputs,
    )


def assert_one_line_naming(err: pytest.ExceptionInfo, name: str) -> None:
    """The error message is one line and names ``name`` (the argument at fault)."""
    msg = str(err.value)
    assert "\n" not in msg, f"multi-line message: {msg!r}"
    assert name in msg, f"message does not name {name!r}: {msg!r}"


@pytest.fixture(scope="session")
def one_line_naming():
    return assert_one_line_naming


# --------------------------------------------------------------------------- gradients, layer


@dataclass(frozen=True)
class GradientTolerances:
    """Tolerances of the gradient, backend, cache and layer tests (fixture ``gtol``).

    ``python_vs_graph``: Python-side (NumPy over ``SimulatorBackend``) vs in-graph
        (``*_tf``) gradients, both complex128 on the same circuits: only the batch layout of
        the simulation differs (rounding ~1e-15 per readout), relative to max(1, max|g|).
    ``float32``: a float32 layer (complex64 simulation) vs the same quantity in complex128:
        ~1e-7 per operation over <= a few dozen gates, plus float32 parameters; relative to
        max(1, max|value|).
    ``spsa_sigmas``: a Monte-Carlo mean of M SPSA estimates must lie within this many
        standard errors (sample std / sqrt(M)) of the true gradient, plus the O(c**2) bias
        bound (see tests/qubit/test_gradients.py); 5 sigma: a false alarm per component
        has probability ~6e-7.
    ``train_loss_ratio``: a trained layer's loss must end below this fraction of its loss
        at initialisation (in 6 epochs the tiny task's loss falls to 0.35-0.55 of the start,
        depending on the method; a gradient of the wrong sign raises it).
    """

    python_vs_graph: float = 1e-10
    float32: float = 1e-4
    spsa_sigmas: float = 5.0
    train_loss_ratio: float = 0.8


@pytest.fixture(scope="session")
def gtol() -> GradientTolerances:
    return GradientTolerances()


class CountingBackend:
    """An ExpectationBackend wrapper that records every ``expectations`` call (rows, shots)."""

    def __init__(self, backend, supports_autodiff=None):
        self.backend = backend
        self.name = backend.name
        self.supports_autodiff = (
            backend.supports_autodiff if supports_autodiff is None else supports_autodiff
        )
        self.cache_name = backend.cache_name
        self.calls: list[tuple[int, object]] = []

    def expectations(self, model, features, params, shots=None):
        self.calls.append((len(features), shots))
        return self.backend.expectations(model, features, params, shots)


@pytest.fixture
def counting_backend():
    """Factory: ``counting_backend(backend)`` wraps a backend and records its calls."""
    return CountingBackend
