"""Channels (issue 20): LossChannel and ThermalLossChannel in the compiled engine.

Oracles: SF's fock backend in its mixed-state mode (LossChannel as Kraus operators),
the dilation of ThermalLossChannel (which SF's fock backend refuses): a beamsplitter
with a thermal ancilla traced out, and central finite differences.
"""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import central_difference, dilated_thermal_loss, mixed_fock_reference
from random_programs import random_program
from strawberryfields import ops
from tolerances import TOL

from qgan.photonic import gates, simulate

DTYPES = [tf.complex64, tf.complex128]


def _dm_matrix(dm: np.ndarray, n_modes: int) -> np.ndarray:
    """SF-layout density matrix ``[D, D, ...]`` -> ``[D^n, D^n]``."""
    d = dm.shape[0]
    perm = [2 * i for i in range(n_modes)] + [2 * i + 1 for i in range(n_modes)]
    return np.transpose(dm, perm).reshape(d**n_modes, d**n_modes)


# --------------------------------------------------------------------------- vs SF fock


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES, ids=["c64", "c128"])
@pytest.mark.parametrize("seed", range(8))
def test_random_lossy_programs_match_sf_fock_mixed_state(seed, dtype, check):
    """Every density-matrix element within the amplitude tolerance of SF's fock backend,
    for random programs where LossChannel (constant, free or per-sample T) may be followed
    by more gates (the density-matrix path) or not (the terminal-channel path)."""
    batch = 3 if seed % 2 else None
    rp = random_program(
        seed, n_modes=2 + seed % 2, cutoff=4, n_gates=6, batch=batch, dtype=dtype, channels=0.3
    )
    res = simulate(rp.prog, rp.cutoff, args=rp.args, batch_size=rp.batch_size, dtype=dtype)
    expected = mixed_fock_reference(rp.prog, rp.cutoff, rp.args, rp.batch_size)
    check.amplitudes(res.dm(), expected, TOL.amplitude[dtype], f"dm {rp.description}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["c64", "c128"])
def test_loss_then_gates_matches_sf_fock(dtype, check):
    """A channel followed by gates on its mode (density-matrix path), batched T."""
    prog = sf.Program(2)
    t = prog.params("t")
    with prog.context as q:
        ops.Coherent(0.5, 0.3) | q[0]
        ops.Squeezed(0.3, 0.2) | q[1]
        ops.BSgate(0.6, 0.1) | (q[0], q[1])
        ops.LossChannel(t) | q[0]
        ops.Kgate(0.4) | q[0]
        ops.BSgate(0.4, -0.3) | (q[0], q[1])
        ops.LossChannel(0.8) | q[1]
    args = {"t": np.array([0.9, 0.4, 0.0])}
    res = simulate(prog, 5, args=args, dtype=dtype)
    assert not res.is_pure
    check.amplitudes(res.dm(), mixed_fock_reference(prog, 5, args), TOL.amplitude[dtype], "dm")


def test_terminal_channels_equal_the_density_matrix_path(check):
    """Loss after the last gate (kept as a terminal channel) gives every readout the
    density-matrix path gives when an identity gate (Rgate(0)) follows the loss."""
    results = []
    for forced in (False, True):
        prog = sf.Program(3)
        with prog.context as q:
            ops.Squeezed(0.4, 0.0) | q[0]
            ops.Coherent(0.6, 0.5) | q[2]
            ops.BSgate(0.7, 0.2) | (q[0], q[1])
            ops.S2gate(0.2, 0.1) | (q[1], q[2])
            ops.LossChannel(0.7) | q[0]
            ops.ThermalLossChannel(0.8, 0.3) | q[2]
            ops.LossChannel(0.9) | q[2]
            if forced:
                ops.Rgate(0.0) | q[0]
        results.append(simulate(prog, 4, dtype=tf.complex128))
    terminal, full = results
    assert terminal._kind == "terminal" and full._kind == "dm"
    tol = TOL.amplitude[tf.complex128]
    check.amplitudes(terminal.dm(), full.dm(), tol, "dm")
    check.amplitudes(terminal.all_fock_probs(), full.all_fock_probs(), tol, "probs")
    for mode in range(3):
        check.amplitudes(terminal.reduced_dm(mode), full.reduced_dm(mode), tol, f"rho {mode}")
    check.amplitudes(terminal.reduced_dm([0, 2]), full.reduced_dm([0, 2]), tol, "rho 0,2")
    check.amplitudes(terminal.norm(), full.norm(), tol, "trace")


def test_loss_inside_tf_function_with_trainable_and_per_sample_T(check):
    prog = sf.Program(2)
    t, r = prog.params("t", "r")
    with prog.context as q:
        ops.Sgate(r) | q[0]
        ops.BSgate(0.5, 0.0) | (q[0], q[1])
        ops.LossChannel(t) | q[0]
        ops.LossChannel(t) | q[1]
    var = tf.Variable(0.3, dtype=tf.float64)

    @tf.function
    def run(ts):
        return simulate(prog, 5, args={"t": ts, "r": var}, dtype=tf.complex128).dm()

    ts = np.array([1.0, 0.6])
    expected = mixed_fock_reference(prog, 5, {"t": ts, "r": 0.3})
    check.amplitudes(run(tf.constant(ts)), expected, TOL.amplitude[tf.complex128], "dm")


# --------------------------------------------------------------------------- thermal loss


def _moments_from_dm(dm: np.ndarray, n_modes: int):
    """Means (x1..xn, p1..pn) and symmetrised covariance (hbar = 2) of an SF-layout dm
    ``[D, D, ...]`` (ket, bra axes per mode), from the truncated a, a^dagger."""
    d = dm.shape[0]
    perm = [2 * i for i in range(n_modes)] + [2 * i + 1 for i in range(n_modes)]
    rho = np.transpose(dm, perm).reshape(d**n_modes, d**n_modes)
    a = np.diag(np.sqrt(np.arange(1, d)), 1)

    def on(mode, op):
        out = np.ones((1, 1))
        for m in range(n_modes):
            out = np.kron(out, op if m == mode else np.eye(d))
        return out

    quads = [on(m, a + a.T) for m in range(n_modes)]
    quads += [on(m, -1j * (a - a.T)) for m in range(n_modes)]
    means = np.array([np.trace(rho @ r).real for r in quads])
    second = [[np.trace(rho @ (r @ s + s @ r)).real / 2 for s in quads] for r in quads]
    return means, np.array(second) - np.outer(means, means)


def _thermal_loss_program(dilated: bool):
    """Two modes, squeezed and displaced, mixed by a beamsplitter, then ThermalLossChannel
    on each (with a rotation after the first, so the density-matrix path runs) — or, with
    ``dilated``, the same channels as beamsplitters with thermal ancilla modes 2 and 3."""
    channels = ((0, 0.7, 0.2), (1, 0.6, 0.4))
    prog = sf.Program(4 if dilated else 2)
    with prog.context as q:
        ops.Squeezed(0.2, 0.3) | q[0]
        ops.Dgate(0.3, 0.7) | q[1]
        ops.BSgate(0.5, 0.4) | (q[0], q[1])
        for k, (mode, T, nbar) in enumerate(channels):
            if dilated:
                ops.Thermal(nbar) | q[2 + k]
                ops.BSgate(float(np.arccos(np.sqrt(T))), 0.0) | (q[mode], q[2 + k])
            else:
                ops.ThermalLossChannel(T, nbar) | q[mode]
            if mode == 0:
                ops.Rgate(0.3) | q[0]
    return prog


@pytest.mark.slow
def test_thermal_loss_channel_matches_the_gaussian_moments_of_its_dilation():
    """Means and covariance from the density matrix (complex128, cutoff 18, leakage below
    1e-8) equal SF's gaussian backend on the dilated program (thermal ancillas and
    beamsplitters, ancillas traced out) to 1e-8: the Gaussian map
    V -> T V + (1 - T)(2 nbar + 1) I on each lossy mode only."""
    res = simulate(_thermal_loss_program(dilated=False), 18, dtype=tf.complex128)
    assert not res.is_pure
    assert float(res.leakage()) < 1e-8
    means, cov = _moments_from_dm(res.dm().numpy(), 2)
    state = sf.Engine("gaussian").run(_thermal_loss_program(dilated=True)).state
    ref_means, ref_cov = state.reduced_gaussian([0, 1])
    np.testing.assert_allclose(means, ref_means, atol=1e-8)
    np.testing.assert_allclose(cov, ref_cov, atol=1e-8)


def test_sf_gaussian_thermal_loss_adds_noise_to_every_mode():
    """Pins a bug of SF 0.23's gaussian backend that the test above works around:
    ``GaussianModes.thermal_loss`` adds ``(1 - T) nbar`` to the whole N matrix
    (``self.nmat += ...``), so an untouched vacuum mode gets x variance 1 + 2 (1 - T) nbar
    and correlations with the lossy mode. If SF fixes it, compare with
    ``ThermalLossChannel`` on SF's gaussian backend directly."""
    prog = sf.Program(2)
    with prog.context as q:
        ops.Squeezed(0.2, 0.3) | q[0]
        ops.ThermalLossChannel(0.7, 0.2) | q[0]
    cov = sf.Engine("gaussian").run(prog).state.cov()
    assert cov[1, 1] == pytest.approx(1 + 2 * 0.3 * 0.2, abs=1e-12)  # mode 1 is vacuum: 1
    ours = simulate(prog, 18, dtype=tf.complex128)
    _, cov_ours = _moments_from_dm(ours.dm().numpy(), 2)
    assert cov_ours[1, 1] == pytest.approx(1.0, abs=1e-8)


def _random_rho(seed: int, cutoff: int) -> np.ndarray:
    """A random mixed single-mode state on the cutoff (trace 1)."""
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(3, cutoff)) + 1j * rng.normal(size=(3, cutoff))
    weights = rng.dirichlet(np.ones(3))
    rho = sum(w * np.outer(v, v.conj()) / np.vdot(v, v) for w, v in zip(weights, vecs, strict=True))
    return rho


@pytest.mark.parametrize("T, nbar", [(0.8, 0.3), (0.5, 0.7), (0.0, 0.6), (1.0, 0.5), (0.3, 0.0)])
def test_thermal_loss_channel_equals_its_dilation(T, nbar, check):
    """The superoperator applied to a random state equals the beamsplitter dilation with
    a thermal ancilla traced out, element by element in the Fock basis (complex128)."""
    d = 6
    rho = _random_rho(int(10 * T + nbar * 7), d)
    superop = gates.thermal_loss_channel(T, nbar, d, tf.complex128).numpy()
    got = np.einsum("mnpq,pq->mn", superop, rho)
    expected = dilated_thermal_loss(rho, T, nbar, d, ancilla=40)  # tail < 1e-13
    check.amplitudes(got, expected, TOL.amplitude[tf.complex128], f"T={T} nbar={nbar}")


# --------------------------------------------------------------------------- properties


@settings(max_examples=10, deadline=None)
@given(
    T=st.floats(0.0, 1.0),
    nbar=st.floats(0.0, 0.5),
    seed=st.integers(0, 10_000),
    thermal=st.booleans(),
)
def test_channel_output_is_a_state_with_the_input_trace(T, nbar, seed, thermal):
    """Complete positivity (output PSD to 1e-10) and trace preservation: loss keeps the
    trace exactly on the cutoff; thermal loss keeps it up to what leaves the cutoff,
    which the same channel at a larger cutoff accounts for."""
    d = 5
    rho = _random_rho(seed, d)
    if thermal:
        small = gates.thermal_loss_channel(T, nbar, d, tf.complex128).numpy()
        # at d + 25 the thermal tail (nbar / (1 + nbar))^25 < 1e-11 stays inside
        big = gates.thermal_loss_channel(T, nbar, d + 25, tf.complex128).numpy()
        padded = np.zeros((d + 25, d + 25), complex)
        padded[:d, :d] = rho
        out_big = np.einsum("mnpq,pq->mn", big, padded)
        assert abs(np.trace(out_big) - np.trace(rho)) < 1e-9
    else:
        small = gates.loss_channel(T, d, tf.complex128).numpy()
    out = np.einsum("mnpq,pq->mn", small, rho)
    if thermal:
        np.testing.assert_allclose(out, out_big[:d, :d], atol=1e-12)
    else:
        assert abs(np.trace(out) - np.trace(rho)) < 1e-12
    assert np.abs(out - out.conj().T).max() < 1e-12
    assert np.linalg.eigvalsh(out).min() > -1e-10


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), nbar=st.floats(0.0, 2.0))
def test_loss_limits_identity_and_vacuum(seed, nbar):
    """T = 1: identity (both channels); T = 0: loss gives the vacuum and thermal loss the
    thermal state of nbar (its photon-number distribution, truncated)."""
    d = 5
    rho = _random_rho(seed, d)
    for superop in (
        gates.loss_channel(1.0, d, tf.complex128),
        gates.thermal_loss_channel(1.0, nbar, d, tf.complex128),
    ):
        np.testing.assert_allclose(np.einsum("mnpq,pq->mn", superop.numpy(), rho), rho, atol=1e-12)
    vac = np.einsum("mnpq,pq->mn", gates.loss_channel(0.0, d, tf.complex128).numpy(), rho)
    expected = np.zeros((d, d))
    expected[0, 0] = np.trace(rho).real
    np.testing.assert_allclose(vac, expected, atol=1e-12)
    thermal = np.einsum(
        "mnpq,pq->mn", gates.thermal_loss_channel(0.0, nbar, d, tf.complex128).numpy(), rho
    )
    probs = nbar ** np.arange(d) / (1 + nbar) ** (np.arange(d) + 1)
    np.testing.assert_allclose(thermal, np.diag(probs) * np.trace(rho).real, atol=1e-12)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_density_matrix_of_random_lossy_program_is_positive(seed):
    rp = random_program(seed, n_modes=2, cutoff=4, n_gates=5, dtype=tf.complex128, channels=0.4)
    res = simulate(rp.prog, rp.cutoff, args=rp.args, dtype=tf.complex128)
    rho = _dm_matrix(res.dm().numpy(), 2)
    assert np.abs(rho - rho.conj().T).max() < 1e-12
    assert np.linalg.eigvalsh(rho).min() > -1e-10


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("after", [False, True], ids=["terminal", "density-matrix"])
def test_gradients_through_channels_equal_finite_differences(after):
    """d/d(T, nbar, r) of readouts through LossChannel and ThermalLossChannel: tape vs
    central differences (complex128, fd_rtol relative)."""
    prog = sf.Program(2)
    t, nbar, r = prog.params("t", "nbar", "r")
    with prog.context as q:
        ops.Coherent(0.5, 0.2) | q[0]
        ops.Sgate(r, 0.3) | q[1]
        ops.BSgate(0.6, 0.4) | (q[0], q[1])
        ops.LossChannel(t) | q[0]
        ops.ThermalLossChannel(t, nbar) | q[1]
        if after:
            ops.Kgate(0.3) | q[0]
            ops.BSgate(0.2, 0.1) | (q[0], q[1])

    def value(x):
        res = simulate(prog, 6, args={"t": x[0], "nbar": x[1], "r": x[2]}, dtype=tf.complex128)
        mean, _ = res.mean_photon(0)
        quad, var = res.quad_expectation(1, 0.7)
        return mean + quad + 0.5 * var + res.fock_probs(1)[2] + res.parity(0)

    x0 = np.array([0.7, 0.3, 0.25])
    xs = tf.Variable(x0)
    with tf.GradientTape() as tape:
        out = value(tf.unstack(xs))
    grad = tape.gradient(out, xs).numpy()
    fd = central_difference(lambda x: float(value([tf.constant(v) for v in x])), x0, TOL.fd_step)
    np.testing.assert_allclose(
        grad, fd, rtol=TOL.fd_rtol, atol=TOL.fd_rtol * max(1, np.abs(fd).max())
    )


# --------------------------------------------------------------------------- errors


def test_ket_of_a_mixed_state_is_refused():
    prog = sf.Program(1)
    with prog.context as q:
        ops.Coherent(0.3) | q[0]
        ops.LossChannel(0.5) | q[0]
    res = simulate(prog, 4)
    with pytest.raises(ValueError, match="mixed") as info:
        res.ket()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "op, field",
    [
        (lambda: ops.LossChannel(1.5), "T"),
        (lambda: ops.LossChannel(-0.1), "T"),
        (lambda: ops.ThermalLossChannel(0.5, -1.0), "nbar"),
        (lambda: ops.Thermal(-0.2), "nbar"),
    ],
)
def test_unphysical_channel_constants_are_refused(op, field):
    prog = sf.Program(1)
    with prog.context as q:
        op() | q[0]
    with pytest.raises(ValueError, match=field):
        simulate(prog, 4)


def test_memory_check_counts_the_density_matrix(monkeypatch):
    """The density-matrix path needs D^(2n) amplitudes per sample: refused where the pure
    state of the same size would fit."""
    prog = sf.Program(3)
    with prog.context as q:
        ops.LossChannel(0.5) | q[0]
        ops.BSgate(0.3, 0.0) | (q[0], q[1])
    pure = sf.Program(3)
    with pure.context as q:
        ops.BSgate(0.3, 0.0) | (q[0], q[1])
    # room for the pure state (8^3 x 4 x 8 bytes x few) but not the dm (8^6 x ...)
    monkeypatch.setenv("QGAN_MEMORY_BYTES", str(2_000_000))
    simulate(pure, 8, batch_size=4)
    with pytest.raises(ValueError, match="density matrix"):
        simulate(prog, 8, batch_size=4)
