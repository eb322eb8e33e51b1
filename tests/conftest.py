"""Shared fixtures for the test suite: tolerances, hypothesis profiles and oracles.

Oracles for ``qgan.photonic``:

* :func:`fock_reference` runs a Strawberry Fields program on SF's own ``fock`` backend
  (NumPy, complex128, gate elements from The Walrus), one sample at a time with scalar
  arguments, and returns the kets and SF's own state observables.
* :func:`sf_tf_state` runs a program on SF's ``tf`` backend (used for gradients).
* :func:`random_program` builds random supported programs with free parameters.

Every tolerance used by a test lives in :class:`Tolerances` (fixture ``tol``); tests
never hard-code numerical tolerances.

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
   symmetric S2gate). SF's ``tf`` backend and the gate definition disagree with it. The oracle adds
   an idle vacuum mode in front (mode 0) so that no gate ever has mode 0 as its second
   mode, and reads the original state off the slice where that mode is in |0>.
3. SF's ``Gate.apply`` skips a gate whose first parameter is 0 (an identity for every
   gate except MZgate): ``MZgate(0, phi_ex)`` is silently dropped by ``Engine.run`` on
   every backend, although it is a swap. The oracle applies each compiled command with
   the backend call (``op._apply``), so MZgate(0, phi_ex) acts as defined.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # allow running the suite from a checkout without install
    sys.path.insert(0, str(_ROOT))

import qgan._compat  # noqa: E402,F401  (SciPy shim SF 0.23 needs; must precede SF)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import strawberryfields as sf  # noqa: E402
import sympy  # noqa: E402
import tensorflow as tf  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from scipy.stats import unitary_group  # noqa: E402
from strawberryfields import ops  # noqa: E402
from strawberryfields.backends.fockbackend import FockBackend  # noqa: E402
from strawberryfields.backends.fockbackend import ops as fock_ops  # noqa: E402
from strawberryfields.backends.states import BaseFockState  # noqa: E402

# --------------------------------------------------------------------------- hypothesis

settings.register_profile(
    "ci",
    max_examples=12,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --------------------------------------------------------------------------- tolerances

DTYPES = (tf.complex64, tf.complex128)


@dataclass(frozen=True)
class Tolerances:
    """All numerical tolerances of the suite, in one place.

    ``amplitude``: max |psi - psi_ref| per amplitude vs SF's fock backend (DESIGN.md).
    ``observable``: derived real quantities (probabilities, norm, mean photon number and
        quadrature moments with their variances) vs SF's state API, as a multiple of
        max(1, |reference|). In complex64 they are sums of up to D**n products of
        amplitudes that are each good to ~1e-7 relative, so 1e-4 is a loose but
        meaningful bound; in complex128 the same argument as for the amplitudes.
    ``gate``: gate matrix elements vs the exact elements (The Walrus / closed forms).
    ``unitarity``: deviation of U^dagger U from the identity on a block that the
        truncated gate leaves closed (exactly unitary there), and of the analytic
        truncation tails.
    ``definition``: gate vs exp(generator) computed with scipy in a large working
        truncation (complex128; the expm itself is only good to ~1e-12 there).
    ``nontrivial``: a deviation that a test expects to be *visible* (e.g. the truncation
        error at a small cutoff) must exceed this, so the test can actually fail.
    ``graph``: eager vs tf.function of the same computation (same kernels, same dtype).
    ``fd_rtol`` / ``fd_step``: tape gradient vs central finite differences (complex128);
        the absolute floor is ``fd_rtol * max(1, max|grad|)``.
    ``sf_tf_grad``: tape gradient vs SF's tf backend gradient, relative to
        max(1, max|grad|).
    ``leakage``: leakage() vs the analytic Poisson tail (complex128).
    """

    amplitude: dict = field(default_factory=lambda: {tf.complex64: 2e-5, tf.complex128: 1e-10})
    observable: dict = field(default_factory=lambda: {tf.complex64: 1e-4, tf.complex128: 1e-9})
    gate: dict = field(default_factory=lambda: {tf.complex64: 2e-5, tf.complex128: 1e-12})
    unitarity: dict = field(default_factory=lambda: {tf.complex64: 1e-5, tf.complex128: 1e-12})
    graph: dict = field(default_factory=lambda: {tf.complex64: 1e-6, tf.complex128: 1e-12})
    definition: float = 1e-9
    nontrivial: float = 1e-7
    fd_rtol: float = 1e-6
    fd_step: float = 1e-5
    sf_tf_grad: float = 1e-4
    leakage: float = 1e-6


TOL = Tolerances()


@pytest.fixture(scope="session")
def tol() -> Tolerances:
    return TOL


# DESIGN.md, "Metrics": the fixed keys; the first three need a mixture with known centres
MIXTURE_METRICS = ("modes_captured", "high_quality_fraction", "mode_kl")
ANY_DATA_METRICS = (
    "mmd",
    "energy_distance",
    "wasserstein_1d",
    "linear_r2_generated",
    "linear_r2_real",
    "gradient_flow",
    "leakage",
)


@pytest.fixture(scope="session")
def design_metrics():
    """``(mixture-only keys, keys for any data)`` of DESIGN.md's metrics."""
    return MIXTURE_METRICS, ANY_DATA_METRICS


@pytest.fixture(scope="session")
def check():
    """Comparison helpers (tests run in importlib mode and cannot import conftest)."""
    return SimpleNamespace(
        amplitudes=assert_amplitudes_close,
        scaled=assert_scaled_close,
        gradients=assert_gradients_close,
        to_numpy=to_numpy,
        real_dtype=real_dtype,
    )


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


@pytest.fixture(scope="session")
def sf_fock():
    """The fock-backend oracle, ``sf_fock(prog, cutoff, args, batch_size)``."""
    return fock_reference


@pytest.fixture(scope="session")
def sf_tf():
    """SF's tf backend, ``sf_tf(prog, cutoff, args, batch_size, dtype)`` -> SF state."""
    return sf_tf_state


# --------------------------------------------------------------------------- random programs

_ONE_MODE = {
    "Dgate": lambda rng: [rng.uniform(0.0, 1.0), rng.uniform(-np.pi, np.pi)],
    "Sgate": lambda rng: [rng.uniform(0.0, 0.6), rng.uniform(-np.pi, np.pi)],
    "Rgate": lambda rng: [rng.uniform(-np.pi, np.pi)],
    "Kgate": lambda rng: [rng.uniform(-1.0, 1.0)],
}
_TWO_MODE = {
    "BSgate": lambda rng: [rng.uniform(-np.pi, np.pi), rng.uniform(-np.pi, np.pi)],
    "MZgate": lambda rng: [rng.uniform(-np.pi, np.pi), rng.uniform(-np.pi, np.pi)],
    "S2gate": lambda rng: [rng.uniform(0.0, 0.5), rng.uniform(-np.pi, np.pi)],
    "CKgate": lambda rng: [rng.uniform(-1.0, 1.0)],
}


@dataclass
class RandomProgram:
    prog: sf.Program
    args: dict
    batch_size: int | None  # batch size to pass to simulate (None: infer / unbatched)
    expected_batch: int | None  # B of the result, None if unbatched
    n_modes: int
    cutoff: int
    description: list


def _arg_value(rng, value, real_dtype_):
    """A free-parameter value in a random but contract-conforming container type."""
    kind = rng.integers(0, 4 if np.ndim(value) == 0 else 3)
    if np.ndim(value) == 0:
        if kind == 0:
            return float(value)
        if kind == 1:
            return np.float64(value)
        if kind == 2:
            return tf.constant(value, dtype=real_dtype_)
        return tf.Variable(value, dtype=real_dtype_)
    if kind == 0:
        return np.asarray(value, dtype=np.float64)
    if kind == 1:
        return tf.constant(value, dtype=real_dtype_)
    return tf.Variable(value, dtype=real_dtype_)


def random_program(
    seed: int,
    n_modes: int,
    cutoff: int,
    n_gates: int,
    batch: int | None = None,
    explicit_batch: bool = False,
    dtype=tf.complex128,
    interferometer: bool = True,
    free_fraction: float = 0.5,
) -> RandomProgram:
    """A random supported program with preparations, gates and free parameters.

    ``batch``: if given, some free parameters get per-sample values of shape [batch];
    with ``explicit_batch`` the batch size is passed explicitly (and may be the only
    source of batching if no per-sample argument was drawn).
    Values of shared [B] arguments are kept within the same ranges as the literals.
    Two-mode gates act on random ordered pairs, including reversed order (q[j], q[i]).
    """
    rng = np.random.default_rng(seed)
    rdt = real_dtype(dtype)
    prog = sf.Program(n_modes)
    args: dict = {}
    desc: list = []
    counter = [0]

    def maybe_free(value_sampler):
        value = value_sampler()
        if rng.random() >= free_fraction:
            return value
        name = f"p{counter[0]}"
        counter[0] += 1
        if batch is not None and rng.random() < 0.6:
            vals = np.array([value_sampler() for _ in range(batch)])
        else:
            vals = value
        args[name] = _arg_value(rng, vals, rdt)
        return prog.params(name)

    def _component(sampler, k):
        return lambda: sampler(rng)[k]

    with prog.context as q:
        for m in range(n_modes):
            kind = rng.integers(0, 5)
            if kind == 0:
                ops.Vacuum() | q[m]
                desc.append(("Vacuum", m))
            elif kind == 1:
                k = int(rng.integers(0, cutoff))
                ops.Fock(k) | q[m]
                desc.append(("Fock", k, m))
            elif kind == 2:
                r = maybe_free(lambda: rng.uniform(0.0, 1.0))
                phi = maybe_free(lambda: rng.uniform(-np.pi, np.pi))
                ops.Coherent(r, phi) | q[m]
                desc.append(("Coherent", m))
            elif kind == 3:
                r = maybe_free(lambda: rng.uniform(0.0, 0.5))
                phi = maybe_free(lambda: rng.uniform(-np.pi, np.pi))
                ops.Squeezed(r, phi) | q[m]
                desc.append(("Squeezed", m))
            # kind 4: no preparation (vacuum)
        for _ in range(n_gates):
            if n_modes >= 2 and rng.random() < 0.5:
                if interferometer and n_modes >= 2 and rng.random() < 0.08:
                    k = int(rng.integers(2, n_modes + 1))
                    modes = [int(x) for x in rng.permutation(n_modes)[:k]]
                    U = unitary_group.rvs(k, random_state=rng)
                    ops.Interferometer(U) | tuple(q[i] for i in modes)
                    desc.append(("Interferometer", tuple(modes)))
                    continue
                name = list(_TWO_MODE)[int(rng.integers(0, len(_TWO_MODE)))]
                i, j = (int(x) for x in rng.permutation(n_modes)[:2])
                params = [
                    maybe_free(_component(_TWO_MODE[name], k))
                    for k in range(len(_TWO_MODE[name](rng)))
                ]
                getattr(ops, name)(*params) | (q[i], q[j])
                desc.append((name, (i, j)))
            else:
                name = list(_ONE_MODE)[int(rng.integers(0, len(_ONE_MODE)))]
                m = int(rng.integers(0, n_modes))
                params = [
                    maybe_free(_component(_ONE_MODE[name], k))
                    for k in range(len(_ONE_MODE[name](rng)))
                ]
                getattr(ops, name)(*params) | q[m]
                desc.append((name, m))

    has_per_sample = any(np.ndim(to_numpy(v)) == 1 for v in args.values())
    if batch is not None and (explicit_batch or not has_per_sample):
        batch_size = batch
    else:
        batch_size = None
    expected = batch if batch is not None else None
    return RandomProgram(prog, args, batch_size, expected, n_modes, cutoff, desc)


@pytest.fixture(scope="session")
def make_random_program():
    return random_program
