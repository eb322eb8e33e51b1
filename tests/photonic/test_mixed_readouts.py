"""FockResult readouts of mixed states (issue 20) and the new analysis readouts
(parity, fidelity, quadrature densities at any angle), against SF's own states and
analytic Gaussian marginals."""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from oracles import mixed_fock_reference
from strawberryfields import ops
from strawberryfields.backends.states import BaseFockState
from tolerances import TOL

from qgan.photonic import hermite_functions, simulate

TOL128 = TOL.observable[tf.complex128]


def _program(channel_then_gate: bool) -> sf.Program:
    prog = sf.Program(2)
    with prog.context as q:
        ops.Squeezed(0.3, 0.5) | q[0]
        ops.Coherent(0.6, -0.4) | q[1]
        ops.BSgate(0.5, 0.3) | (q[0], q[1])
        ops.LossChannel(0.7) | q[0]
        ops.ThermalLossChannel(0.8, 0.2) | q[1]
        if channel_then_gate:
            ops.Kgate(0.2) | q[0]
    return prog


@pytest.mark.parametrize("after", [False, True], ids=["terminal", "density-matrix"])
def test_mixed_readouts_match_sf_state_api(after, check):
    """all_fock_probs, fock_probs, mean_photon, quad_expectation, parity, norm / leakage,
    reduced_dm of both representations (terminal channels, density matrix) equal SF's
    BaseFockState methods on the result's density matrix (which test_channels checks
    element by element against SF's fock backend and the thermal-loss dilation)."""
    prog = _program(after)
    res = simulate(prog, 6, dtype=tf.complex128)
    ref = BaseFockState(res.dm().numpy(), 2, False, 6)  # SF's readouts of our dm ...
    # ... whose dm is itself checked element by element against SF in test_channels
    check.amplitudes(res.all_fock_probs(), ref.all_fock_probs(), TOL128, "probs")
    assert abs(float(res.norm()) - ref.trace()) < TOL128
    assert abs(float(res.leakage()) - (1 - ref.trace())) < TOL128
    for mode in (0, 1):
        check.amplitudes(res.reduced_dm(mode), ref.reduced_dm(mode), TOL128, f"rho{mode}")
        mean, var = res.mean_photon(mode)
        np.testing.assert_allclose([mean, var], ref.mean_photon(mode), atol=TOL128)
        for phi in (0.0, 0.9, np.pi / 2):
            np.testing.assert_allclose(
                res.quad_expectation(mode, phi), ref.quad_expectation(mode, phi), atol=TOL128
            )
        assert abs(float(res.parity(mode)) - ref.parity_expectation([mode])) < TOL128


def test_lossy_readouts_match_sf_fock_backend_state():
    """With LossChannel only, SF's fock backend computes the state itself: its readouts
    against ours, batched over T."""
    prog = sf.Program(2)
    t = prog.params("t")
    with prog.context as q:
        ops.Coherent(0.5, 0.2) | q[0]
        ops.Squeezed(0.3) | q[1]
        ops.BSgate(0.4, 0.2) | (q[0], q[1])
        ops.LossChannel(t) | q[0]
    ts = np.array([0.9, 0.3])
    res = simulate(prog, 6, args={"t": ts}, dtype=tf.complex128)
    dms = mixed_fock_reference(prog, 6, {"t": ts})
    for b in range(2):
        ref = BaseFockState(dms[b], 2, False, 6)
        np.testing.assert_allclose(res.mean_photon(0)[0][b], ref.mean_photon(0)[0], atol=TOL128)
        np.testing.assert_allclose(
            res.quad_expectation(0, 0.4)[0][b], ref.quad_expectation(0, 0.4)[0], atol=TOL128
        )
        np.testing.assert_allclose(
            res.fock_probs(0)[b], np.diag(ref.reduced_dm(0)).real, atol=TOL128
        )


def test_pure_result_dm_is_the_outer_product_and_is_pure(check):
    prog = sf.Program(2)
    with prog.context as q:
        ops.Coherent(0.4) | q[0]
        ops.BSgate(0.5, 0.1) | (q[0], q[1])
    res = simulate(prog, 4, dtype=tf.complex128)
    assert res.is_pure
    ket = res.ket().numpy()
    expected = np.einsum("ab,cd->acbd", ket, ket.conj())
    check.amplitudes(res.dm(), expected, TOL.amplitude[tf.complex128], "dm")


def test_fidelity_matches_sf_and_overlap():
    """fidelity(ket, mode) = SF's state.fidelity(ket, mode) on the reduced state; with all
    modes of a pure state, |<phi|psi>|^2; batched kets give one value per sample."""
    prog = _program(False)
    res = simulate(prog, 6, dtype=tf.complex128)
    ref = BaseFockState(res.dm().numpy(), 2, False, 6)
    rng = np.random.default_rng(3)
    other = rng.normal(size=6) + 1j * rng.normal(size=6)
    other /= np.linalg.norm(other)
    for mode in (0, 1):
        assert abs(float(res.fidelity(other, mode)) - ref.fidelity(other, mode)) < TOL128
    batch = np.stack([other, np.eye(6)[0]])
    np.testing.assert_allclose(
        res.fidelity(batch, 1), [ref.fidelity(other, 1), ref.fidelity(np.eye(6)[0], 1)], atol=TOL128
    )
    pure = sf.Program(2)
    with pure.context as q:
        ops.Coherent(0.4) | q[0]
        ops.S2gate(0.3) | (q[0], q[1])
    psi = simulate(pure, 5, dtype=tf.complex128)
    phi = rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))
    phi /= np.linalg.norm(phi)
    overlap = abs(np.vdot(phi, psi.ket().numpy())) ** 2
    assert abs(float(psi.fidelity(phi)) - overlap) < TOL128
    assert abs(float(psi.fidelity(phi, [0, 1])) - overlap) < TOL128


@pytest.mark.parametrize("phi", [0.0, 0.6, np.pi / 2, 2.5])
def test_quad_density_is_the_gaussian_marginal(phi):
    """For a lossy squeezed coherent state (Gaussian) the x_phi marginal is the normal
    density with the mean and variance of quad_expectation (at a cutoff with leakage
    < 1e-9), and integrates to the trace."""
    prog = sf.Program(1)
    with prog.context as q:
        ops.Squeezed(0.3, 0.4) | q[0]
        ops.Dgate(0.5, 0.8) | q[0]
        ops.ThermalLossChannel(0.8, 0.1) | q[0]
    res = simulate(prog, 30, dtype=tf.complex128)
    assert float(res.leakage()) < 1e-9
    grid = np.linspace(-8, 8, 401)
    density = res.quad_density(0, phi, grid).numpy()
    state = sf.Engine("gaussian").run(prog).state
    mean, var = state.quad_expectation(0, phi)
    gauss = np.exp(-((grid - mean) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var)
    np.testing.assert_allclose(density, gauss, atol=1e-7)


def test_quad_density_per_sample_angle_and_hermite_functions():
    """phi of shape [B] gives one density per sample, equal to the scalar-angle ones; the
    Hermite functions are orthonormal on a fine grid."""
    prog = sf.Program(1)
    r = prog.params("r")
    with prog.context as q:
        ops.Squeezed(r, 0.2) | q[0]
        ops.LossChannel(0.6) | q[0]
    res = simulate(prog, 8, args={"r": np.array([0.1, 0.3])}, dtype=tf.complex128)
    grid = np.linspace(-7, 7, 141)
    both = res.quad_density(0, tf.constant([0.2, 1.1], tf.float64), grid).numpy()
    for b, angle in enumerate([0.2, 1.1]):
        np.testing.assert_allclose(both[b], res.quad_density(0, angle, grid).numpy()[b], atol=1e-14)
    fine = np.linspace(-12, 12, 4001)
    psi = hermite_functions(fine, 6)
    gram = psi.T @ psi * (fine[1] - fine[0])
    np.testing.assert_allclose(gram, np.eye(6), atol=1e-9)


@pytest.mark.parametrize("bad", [[], [[0.0, 1.0]], [np.nan]])
def test_bad_grids_are_refused(bad):
    res = simulate(sf.Program(1), 3)
    with pytest.raises(ValueError, match="xgrid"):
        res.quad_density(0, 0.0, bad)
    with pytest.raises(ValueError, match="xvec"):
        res.wigner(0, bad, [0.0])
