"""Reference results to test against: Strawberry Fields' own backends and comparisons.

Importable test helpers (``tests/`` is on pytest's ``pythonpath``: ``from oracles import
fock_reference``), in the manner of Cirq's ``cirq/testing/circuit_compare.py``; the
conftest fixtures ``sf_fock``, ``sf_tf`` and ``check`` hand out the same functions.

* :func:`fock_reference` runs a Strawberry Fields program on SF's own ``fock`` backend
  (NumPy, complex128, gate elements from The Walrus), one sample at a time with scalar
  arguments, and returns the kets and SF's own state observables.
* :func:`sf_tf_state` runs a program on SF's ``tf`` backend (used for gradients).
* ``assert_*_close``: elementwise comparisons that report the worst element.

Three facts about SF 0.23 the oracle has to respect (all checked in
``tests/photonic/test_agreement.py::TestOracle``):

1. SF's ``fock`` backend turns the state into a density matrix whenever a single mode of
   a multi-mode circuit is prepared (``prepare_multimode`` mixes first), so ``ket()``
   becomes ``None``. The oracle therefore builds the (product) initial state from SF's
   own preparation vectors (``fockbackend.ops.fockState/coherentState/squeezedState``)
   and loads it with one ``ops.Ket`` on all modes, which keeps the state pure.
2. SF's ``fock`` backend applies BSgate/MZgate/S2gate on the *wrong modes* of a pure
   state when the gate's second mode is mode 0 (``apply_twomode_gate`` swaps axes
   0<->t1 and then 1<->t2, which moves mode 0 again when t2 == 0): e.g.
   ``BSgate(0.7, 0.3) | (q[1], q[0])`` acts as ``BSgate(0.7, 0.3) | (q[0], q[1])``, and
   on three modes ``| (q[2], q[0])`` acts as ``| (q[1], q[2])`` (invisible for the
   symmetric S2gate). SF's ``tf`` backend and the gate definition disagree with it. The
   oracle adds an idle vacuum mode in front (mode 0) so that no gate ever has mode 0 as
   its second mode, and reads the original state off the slice where that mode is in |0>.
3. SF's ``Gate.apply`` skips a gate whose first parameter is 0 (an identity for every
   gate except MZgate): ``MZgate(0, phi_ex)`` is silently dropped by ``Engine.run`` on
   every backend, although it is a swap. The oracle applies each compiled command with
   the backend call (``op._apply``), so MZgate(0, phi_ex) acts as defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import qgan._compat  # noqa: F401  (SciPy shim SF 0.23 needs; must precede SF)

import numpy as np
import pytest
import strawberryfields as sf
import sympy
import tensorflow as tf
from strawberryfields import ops
from strawberryfields.backends.fockbackend import FockBackend
from strawberryfields.backends.fockbackend import ops as fock_ops
from strawberryfields.backends.states import BaseFockState


def real_dtype(dtype: tf.DType) -> tf.DType:
    return tf.float32 if tf.as_dtype(dtype) == tf.complex64 else tf.float64


# --------------------------------------------------------------------------- comparisons


def to_numpy(x) -> np.ndarray:
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def assert_amplitudes_close(actual, expected, atol: float, what: str = "amplitudes"):
    """Every element agrees within ``atol`` (complex modulus); shapes must match."""
    actual = to_numpy(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = np.abs(actual - expected)
    worst = float(err.max()) if err.size else 0.0
    if worst > atol:
        idx = np.unravel_index(int(err.argmax()), err.shape)
        pytest.fail(
            f"{what}: max |diff| = {worst:.3e} > {atol:.1e} at index {idx}: "
            f"got {actual[idx]!r}, expected {expected[idx]!r}"
        )


def assert_scaled_close(actual, expected, rtol: float, what: str = "value"):
    """|actual - expected| <= rtol * max(1, |expected|), elementwise."""
    actual = to_numpy(actual).astype(np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    bound = rtol * np.maximum(1.0, np.abs(expected))
    err = np.abs(actual - expected)
    bad = err > bound
    if np.any(bad):
        idx = np.unravel_index(int(np.argmax(err - bound)), err.shape) if err.ndim else ()
        pytest.fail(
            f"{what}: |diff| = {float(err[idx]):.3e} > {float(bound[idx]):.1e} at {idx}: "
            f"got {actual[idx]!r}, expected {expected[idx]!r}"
        )


def assert_gradients_close(actual, expected, rtol: float, what: str = "gradient"):
    """Elementwise |g - g_ref| <= rtol * max(1, max|g_ref|).

    Relative to the size of the whole gradient (at least 1), so that components that
    are (nearly) zero are compared with the same absolute floor as the large ones.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    bound = rtol * scale * np.ones_like(expected)
    err = np.abs(actual - expected)
    if np.any(err > bound):
        pytest.fail(f"{what}: got {actual!r}, expected {expected!r}; |diff| = {err!r} > {bound!r}")


# --------------------------------------------------------------------------- SF oracles

_PREPARATIONS = ("Vacuum", "Fock", "Coherent", "Squeezed")


def _mode_indices(cmd) -> list[int]:
    return [r.ind for r in cmd.reg]


def _value(p, args: dict, sample: int | None):
    """Concrete value of one op parameter (float, FreeParameter, sympy expr, array)."""
    if isinstance(p, sympy.Basic):
        subs = {}
        for sym in p.free_symbols:
            v = np.asarray(to_numpy(args[sym.name]), dtype=np.float64)
            if v.ndim == 1:
                v = v[sample]
            subs[sym] = float(v)
        return complex(sympy.N(p.subs(subs))).real
    if hasattr(p, "numpy") or isinstance(p, np.ndarray):
        return np.asarray(to_numpy(p))
    return p


def _batch_size_of(args: dict, batch_size: int | None) -> int | None:
    for v in args.values():
        a = np.asarray(to_numpy(v))
        if a.ndim == 1:
            return a.shape[0]
    return batch_size


@dataclass
class FockReference:
    """SF fock-backend results; arrays carry a leading batch axis iff ``batched``."""

    kets: np.ndarray  # [B, D, ..., D] (always with batch axis internally)
    states: list  # one BaseFockState per sample (pure, n_modes)
    batched: bool
    cutoff: int
    n_modes: int

    def _out(self, per_sample):
        arr = np.asarray(per_sample)
        return arr if self.batched else arr[0]

    def ket(self) -> np.ndarray:
        return self._out(self.kets)

    def all_fock_probs(self) -> np.ndarray:
        return self._out([s.all_fock_probs() for s in self.states])

    def norm(self) -> np.ndarray:
        return self._out([s.trace() for s in self.states])

    def _reduced_state(self, sample: int, mode: int) -> BaseFockState:
        ket = self.kets[sample]
        others = [m for m in range(self.n_modes) if m != mode]
        rho = np.tensordot(ket, ket.conj(), axes=(others, others))
        return BaseFockState(rho, 1, False, self.cutoff)

    def mean_photon(self, mode: int):
        """(mean, var) from SF's BaseFockState.mean_photon on the reduced state."""
        vals = [self._reduced_state(b, mode).mean_photon(0) for b in range(len(self.states))]
        means, variances = zip(*vals)
        return self._out(means), self._out(variances)

    def quad_expectation(self, mode: int, phi: float = 0.0):
        """(mean, var) from SF's BaseFockState.quad_expectation on the reduced state."""
        vals = [
            self._reduced_state(b, mode).quad_expectation(0, phi) for b in range(len(self.states))
        ]
        means, variances = zip(*vals)
        return self._out(means), self._out(variances)


def _oracle_program(prog, cutoff: int, args: dict, sample: int | None) -> sf.Program:
    """Concrete SF program (one sample) with an idle vacuum mode 0 in front.

    Preparations become one ``Ket`` on all modes (SF's own preparation vectors); every
    gate is rebuilt with concrete numbers on modes shifted by one.
    """
    n = prog.num_subsystems
    factors = [fock_ops.vacuumState(1, cutoff)] + [
        fock_ops.vacuumState(1, cutoff) for _ in range(n)
    ]
    touched = set()
    gates = []
    for cmd in prog.circuit:
        name = cmd.op.__class__.__name__
        modes = _mode_indices(cmd)
        vals = [_value(p, args, sample) for p in cmd.op.p]
        if name in _PREPARATIONS:
            (m,) = modes
            assert m not in touched, "oracle: preparation after a gate on that mode"
            if name == "Vacuum":
                vec = fock_ops.vacuumState(1, cutoff)
            elif name == "Fock":
                vec = fock_ops.fockState(int(vals[0]), cutoff)
            elif name == "Coherent":
                vec = fock_ops.coherentState(float(vals[0]), float(vals[1]), cutoff)
            else:
                vec = fock_ops.squeezedState(float(vals[0]), float(vals[1]), cutoff)
            factors[m + 1] = np.asarray(vec, dtype=np.complex128)
        else:
            touched.update(modes)
            gates.append((cmd.op, name, vals, modes))
    init = factors[0]
    for f in factors[1:]:
        init = np.multiply.outer(init, f)

    oracle = sf.Program(n + 1)
    with oracle.context as q:
        ops.Ket(init) | tuple(q)
        for op, name, vals, modes in gates:
            regs = tuple(q[m + 1] for m in modes)
            if name == "Interferometer":
                op | regs
            else:
                getattr(ops, name)(*[float(np.real(v)) for v in vals]) | regs
    return oracle


def _run_on_fock_backend(oracle: sf.Program, cutoff: int):
    """Compile for SF's fock backend and apply every command with ``op._apply``.

    Equivalent to ``sf.Engine("fock").run`` except that it does not go through
    ``Gate.apply``, which skips any gate whose *first* parameter is 0 as an identity.
    That is right for every supported gate but MZgate: MZgate(0, phi_ex) is a swap
    (with phases), and SF 0.23 silently drops it.
    """
    compiled = oracle.compile(compiler="fock")
    backend = FockBackend()
    backend.begin_circuit(oracle.num_subsystems, cutoff_dim=cutoff, pure=True)
    for cmd in compiled.circuit:
        cmd.op._apply([r.ind for r in cmd.reg], backend)
    return backend.state()


def fock_reference(prog, cutoff: int, args: dict | None = None, batch_size=None):
    """Run ``prog`` on SF's fock backend, looping over batch samples with scalar args."""
    args = dict(args or {})
    b = _batch_size_of(args, batch_size)
    samples = range(b) if b is not None else [None]
    kets, states = [], []
    n = prog.num_subsystems
    for s in samples:
        oracle = _oracle_program(prog, cutoff, args, s)
        full = _run_on_fock_backend(oracle, cutoff).ket()
        assert full is not None, "oracle state became mixed"
        ket = np.array(full[0])  # idle mode 0 is exactly in |0>
        kets.append(ket)
        states.append(BaseFockState(ket, n, True, cutoff))
    return FockReference(
        kets=np.stack(kets), states=states, batched=b is not None, cutoff=cutoff, n_modes=n
    )


def sf_tf_state(prog, cutoff: int, args: dict | None = None, batch_size=None, dtype=tf.complex128):
    """Run ``prog`` on SF's own ``tf`` backend (differentiable reference)."""
    options = {"cutoff_dim": cutoff, "dtype": dtype}
    if batch_size is not None:
        options["batch_size"] = batch_size
    eng = sf.Engine("tf", backend_options=options)
    return eng.run(prog, args=dict(args or {})).state


# ------------------------------------------------------------------- mixed states (issue 20)

_PURE_PREPS_MIXED_ORACLE = (
    "Vacuum",
    "Fock",
    "Coherent",
    "Squeezed",
    "Catstate",
    "DisplacedSqueezed",
)


def _preparation_dm(name: str, vals: list, cutoff: int) -> np.ndarray:
    """SF's own single-mode preparation as a density matrix ``[D, D]``."""
    if name == "Thermal":
        return np.asarray(fock_ops.thermalState(float(vals[0]), cutoff), dtype=np.complex128)
    if name == "Vacuum":
        vec = fock_ops.vacuumState(1, cutoff)
    elif name == "Fock":
        vec = fock_ops.fockState(int(vals[0]), cutoff)
    elif name == "Coherent":
        vec = fock_ops.coherentState(float(vals[0]), float(vals[1]), cutoff)
    elif name == "Squeezed":
        vec = fock_ops.squeezedState(float(vals[0]), float(vals[1]), cutoff)
    elif name == "DisplacedSqueezed":
        vec = fock_ops.displacedSqueezed(*[float(v) for v in vals[:4]], cutoff)
    else:  # Catstate: SF's own ket construction
        a, phi, p = (float(v) for v in vals[:3])
        vec = np.ravel(ops.Catstate._create_ket(a * np.exp(1j * phi), np.pi * p, cutoff))
    vec = np.asarray(vec, dtype=np.complex128)
    return np.outer(vec, vec.conj())


def mixed_fock_reference(prog, cutoff: int, args: dict | None = None, batch_size=None):
    """Density matrices ``[B, D, D, ..., D, D]`` (SF's layout; no ``B`` when unbatched) of
    ``prog`` on SF's fock backend in its mixed-state mode, one sample at a time.

    As :func:`fock_reference`: an idle vacuum mode in front (SF's two-mode-gate mode-0
    quirk), every command applied with ``op._apply`` after SF's fock compiler (so Pgate,
    CXgate, ... are decomposed as SF does), and the initial product state (SF's own
    preparation vectors, ``Thermal``'s own density matrix) loaded with one
    ``DensityMatrix`` on all modes. ``LossChannel`` runs as SF's Kraus operators.
    """
    args = dict(args or {})
    b = _batch_size_of(args, batch_size)
    samples = range(b) if b is not None else [None]
    n = prog.num_subsystems
    dms = []
    for s in samples:
        factors = [_preparation_dm("Vacuum", [], cutoff) for _ in range(n + 1)]
        gates = []
        for cmd in prog.circuit:
            name = cmd.op.__class__.__name__
            modes = _mode_indices(cmd)
            raw = cmd.op.p[:3] if name == "Catstate" else cmd.op.p
            vals = [_value(p, args, s) for p in raw]
            if name in _PURE_PREPS_MIXED_ORACLE or name == "Thermal":
                factors[modes[0] + 1] = _preparation_dm(name, vals, cutoff)
            else:
                gates.append((cmd.op, name, vals, modes))
        init = factors[0]
        for f in factors[1:]:
            init = np.multiply.outer(init, f)
        oracle = sf.Program(n + 1)
        with oracle.context as q:
            ops.DensityMatrix(init) | tuple(q)
            for op, name, vals, modes in gates:
                regs = tuple(q[m + 1] for m in modes)
                if name == "Interferometer":
                    op | regs
                else:
                    getattr(ops, name)(*[float(np.real(v)) for v in vals]) | regs
        compiled = oracle.compile(compiler="fock")
        backend = FockBackend()
        backend.begin_circuit(oracle.num_subsystems, cutoff_dim=cutoff, pure=False)
        for cmd in compiled.circuit:
            cmd.op._apply([r.ind for r in cmd.reg], backend)
        dm = backend.state().dm()
        dms.append(np.array(dm[0, 0]))  # idle mode 0 is exactly in |0><0|
    dms = np.stack(dms)
    return dms if b is not None else dms[0]


def dilated_thermal_loss(rho: np.ndarray, T: float, nbar: float, cutoff: int, ancilla: int):
    """ThermalLossChannel(T, nbar) on a single-mode ``rho`` ``[D, D]`` by its dilation: a
    beamsplitter of transmissivity ``T`` (SF's fock-backend BSgate, angle ``arccos sqrt T``)
    with an ancilla in a thermal state, traced out, one ancilla Fock state ``|k>`` at a
    time (``k < ancilla``, weight ``nbar^k / (1 + nbar)^(k+1)``). Both modes live at
    cutoff ``ancilla``; the output is cut back to ``[D, D]``. Exact up to the thermal tail
    beyond ``ancilla`` and the beamsplitter outputs beyond it (choose ``ancilla`` so that
    ``(nbar / (1 + nbar))^(ancilla - D)`` is negligible)."""
    big = ancilla
    # SF's fock backend lays a two-mode gate out as [out1, in1, out2, in2]
    bs = np.asarray(fock_ops.beamsplitter(np.arccos(np.sqrt(T)), 0.0, big)).transpose(0, 2, 1, 3)
    out = np.zeros((cutoff, cutoff), dtype=np.complex128)
    for k in range(big):
        weight = nbar**k / (1 + nbar) ** (k + 1)
        column = bs[:cutoff, :, :cutoff, k]  # <m, n|B|p, k> for m, p < D
        out += weight * np.einsum("mnp,pr,lnr->ml", column, rho, column.conj())
    return out


def central_difference(f, x: np.ndarray, h: float) -> np.ndarray:
    """Central finite differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` of a scalar ``f``
    at ``x`` (float64 ``[n]``), one coordinate at a time: the oracle of the tape gradients."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad
