"""Operations added by issue 20, against SF's fock backend: Vgate (native, SF's own
construction), Pgate / CXgate / CZgate / Xgate / Zgate (SF's fock-compiler decomposition),
the preparations Catstate, DisplacedSqueezed and Thermal (mixed)."""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from oracles import central_difference, fock_reference, mixed_fock_reference
from random_programs import random_program
from strawberryfields import ops
from strawberryfields.backends.fockbackend import ops as fock_ops
from tolerances import TOL

from qgan.photonic import gates, simulate

DTYPES = [tf.complex64, tf.complex128]
IDS = ["c64", "c128"]


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("gamma", [-0.8, 0.05, 0.6])
@pytest.mark.parametrize("cutoff", [3, 7])
def test_vgate_matrix_is_sfs_cubic_phase(gamma, cutoff, dtype, check):
    """SF builds V as expm of its truncated x^3 (not a truncation of the infinite V)."""
    expected = fock_ops.cubicPhase(gamma, 2.0, cutoff)
    check.amplitudes(gates.cubic_phase(gamma, cutoff, dtype), expected, TOL.gate[dtype], "V")


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_gates_of_issue_20_match_sf_fock_kets(dtype, check):
    """Vgate, Pgate, CXgate, CZgate, Xgate, Zgate with constant, free, symbolic and
    per-sample arguments: kets vs SF's fock backend."""
    prog = sf.Program(3)
    s, g = prog.params("s", "g")
    with prog.context as q:
        ops.Coherent(0.3, 0.2) | q[0]
        ops.Squeezed(0.2, 0.4) | q[1]
        ops.Vgate(g) | q[0]
        ops.Pgate(s) | q[1]
        ops.CXgate(0.4) | (q[0], q[1])
        ops.CZgate(2 * s) | (q[2], q[0])
        ops.Xgate(0.3) | q[2]
        ops.Zgate(s) | q[1]
        ops.Vgate(-0.2) | q[2]
        ops.BSgate(0.5, 0.1) | (q[1], q[2])
    args = {"s": np.array([0.3, -0.2]), "g": 0.4}
    res = simulate(prog, 5, args=args, dtype=dtype)
    check.amplitudes(res.ket(), fock_reference(prog, 5, args).ket(), TOL.amplitude[dtype], "ket")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("seed", range(6))
def test_random_programs_with_new_operations_match_sf_fock(seed, dtype, check):
    """Random programs drawing the new preparations and gates (and loss where mixed):
    density matrices vs SF's fock backend in its mixed-state mode."""
    rp = random_program(
        100 + seed,
        n_modes=2,
        cutoff=5,
        n_gates=6,
        batch=2 if seed % 2 else None,
        dtype=dtype,
        channels=0.2 if seed % 3 else 0.0,
        new_operations=True,
    )
    res = simulate(rp.prog, rp.cutoff, args=rp.args, batch_size=rp.batch_size, dtype=dtype)
    expected = mixed_fock_reference(rp.prog, rp.cutoff, rp.args, rp.batch_size)
    check.amplitudes(res.dm(), expected, TOL.amplitude[dtype], f"dm {rp.description}")


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_new_preparations_match_sf_fock(dtype, check):
    """Catstate (even, odd, complex), DisplacedSqueezed and Thermal (mixed) before gates."""
    prog = sf.Program(3)
    a, rs = prog.params("a", "rs")
    with prog.context as q:
        ops.Catstate(a, 0.4, 1) | q[0]
        ops.DisplacedSqueezed(0.4, -0.3, rs, 0.7) | q[1]
        ops.Thermal(0.3) | q[2]
        ops.BSgate(0.6, 0.2) | (q[0], q[2])
        ops.Sgate(0.1) | q[1]
        ops.BSgate(0.3, -0.5) | (q[1], q[0])
    args = {"a": np.array([0.2, 0.9]), "rs": 0.3}
    res = simulate(prog, 5, args=args, dtype=dtype)
    assert not res.is_pure
    expected = mixed_fock_reference(prog, 5, args)
    check.amplitudes(res.dm(), expected, TOL.amplitude[dtype], "dm")


@pytest.mark.parametrize("p", [0.0, 1.0, 0.5])
def test_catstate_ket_matches_sf(p, check):
    """A pure program with a Catstate: its ket vs SF's own Catstate vector."""
    prog = sf.Program(1)
    with prog.context as q:
        ops.Catstate(0.8, 0.3, p) | q[0]
    res = simulate(prog, 8, dtype=tf.complex128)
    # SF builds it with sympy functions: numeric sympy values, made complex here
    raw = np.ravel(ops.Catstate._create_ket(0.8 * np.exp(0.3j), np.pi * p, 8))
    expected = np.asarray(raw, dtype=np.complex128)
    check.amplitudes(res.ket(), expected, TOL.amplitude[tf.complex128], "cat")


def test_displaced_squeezed_ket_matches_sf(check):
    """SF's Hermite formula carries a 1e-10 regulariser; the difference stays below the
    complex128 amplitude tolerance."""
    prog = sf.Program(1)
    with prog.context as q:
        ops.DisplacedSqueezed(0.5, 0.3, 0.4, -0.6) | q[0]
    res = simulate(prog, 8, dtype=tf.complex128)
    expected = fock_ops.displacedSqueezed(0.5, 0.3, 0.4, -0.6, 8)
    check.amplitudes(res.ket(), expected, TOL.amplitude[tf.complex128], "ket")


@pytest.mark.slow
def test_gradients_of_new_operations_equal_finite_differences():
    """d/d(args) of Vgate, Catstate (a, phi), DisplacedSqueezed (all four) and
    Pgate arguments and a ThermalLossChannel nbar: tape vs central differences
    (complex128)."""
    prog = sf.Program(2)
    names = ["g", "a", "phi", "rd", "pd", "rs", "ps", "nb", "s"]
    g, a, phi, rd, pd, rs, ps, nb, s = prog.params(*names)
    with prog.context as q:
        ops.Catstate(a, phi, 0) | q[0]
        ops.DisplacedSqueezed(rd, pd, rs, ps) | q[1]
        ops.Vgate(g) | q[0]
        ops.Pgate(s) | q[1]
        ops.BSgate(0.4, 0.3) | (q[0], q[1])
        ops.ThermalLossChannel(0.9, nb) | q[0]

    def value(x):
        res = simulate(prog, 7, args=dict(zip(names, x, strict=True)), dtype=tf.complex128)
        m0, _ = res.mean_photon(0)
        x1, v1 = res.quad_expectation(1, 0.3)
        return m0 + x1 + 0.3 * v1 + res.fock_probs(0)[1]

    x0 = np.array([0.3, 0.6, 0.4, 0.3, -0.2, 0.25, 0.5, 0.2, 0.3])
    xs = tf.Variable(x0)
    with tf.GradientTape() as tape:
        out = value(tf.unstack(xs))
    grad = tape.gradient(out, xs).numpy()
    fd = central_difference(lambda x: float(value([tf.constant(v) for v in x])), x0, TOL.fd_step)
    scale = max(1.0, np.abs(fd).max())
    np.testing.assert_allclose(grad, fd, rtol=0, atol=TOL.fd_rtol * scale)
