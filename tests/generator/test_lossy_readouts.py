"""Readouts of a lossy generator (a mixed state) against Strawberry Fields.

Oracle: SF's own ``fock`` backend in its mixed-state mode (``pure=False``), run sample by
sample on the generator's Program (``LossChannel`` included) with the same bound arguments;
its state's ``quad_expectation(mode, phi)``, ``mean_photon``, ``reduced_dm``,
``all_fock_probs``, ``trace`` and ``x_quad_values`` (the Wigner function integrated over p)
give every feature block. Tolerance: ``tol.amplitude`` (2e-5 in complex64, 1e-10 in
complex128, DESIGN.md's per-element bound) times max(1, |reference|). Gradients through the
channels: central finite differences in complex128 (``tol.fd_rtol``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf

from qgan.generator import CVGenerator
from qgan.generator.readout import DETERMINISTIC, homodyne_grid, x_density

N_MODES, CUTOFF, SCALE = 2, 5, 0.5
ANGLES = (0.7, -2.1)
Z = np.random.default_rng(11).normal(size=(3, N_MODES))
WIDTHS = {
    "quadratures": 2 * N_MODES,
    "mean_photon": N_MODES,
    "photon_marginals": N_MODES * CUTOFF,
    "fock_probs": CUTOFF**N_MODES,
}


def lossy_generator(dtype, loss_at, n_layers=2, cutoff=CUTOFF, readout=DETERMINISTIC, **kw):
    return CVGenerator(
        N_MODES,
        n_layers,
        cutoff,
        readout=readout,
        encoding_scale=SCALE,
        dtype=dtype,
        init_std=0.3,
        seed=7,
        loss=[0.1, 0.25],
        loss_at=loss_at,
        **kw,
    )


def sf_mixed_states(gen, z, program=None):
    """SF fock-backend mixed states, one per row of ``z``, of ``program`` (default: the
    generator's; another must use the generator's free parameters)."""
    weights = dict(
        zip(gen.circuit.weight_names, gen.weights_vector.numpy().astype(float), strict=True)
    )
    states = []
    for row in z:
        args = {f"z{i}": SCALE * float(row[i]) for i in range(N_MODES)} | weights
        eng = sf.Engine("fock", backend_options={"cutoff_dim": gen.cutoff, "pure": False})
        states.append(eng.run(program or gen.program, args=args).state)
    return states


def assert_close(got, expected, dtype, tol, what):
    scale = max(1.0, float(np.max(np.abs(expected))))
    err = float(np.max(np.abs(np.asarray(got) - np.asarray(expected))))
    assert err <= tol.amplitude[dtype] * scale, f"{what}: max |diff| {err:.2e}"


@pytest.fixture(
    scope="module",
    params=[
        (tf.complex64, "measurement"),
        (tf.complex128, "measurement"),
        (tf.complex64, "layers"),
        (tf.complex128, "both"),
    ],
    ids=["c64-measurement", "c128-measurement", "c64-layers", "c128-both"],
)
def case(request):
    dtype, loss_at = request.param
    gen = lossy_generator(dtype, loss_at, quadrature_angles=ANGLES)
    features = gen(tf.constant(Z)).numpy()
    _, leakage = gen.features_and_leakage(tf.constant(Z))
    return dict(
        gen=gen,
        dtype=dtype,
        features=features,
        leakage=leakage.numpy(),
        states=sf_mixed_states(gen, Z),
    )


def block(case, name):
    start = sum(WIDTHS[n] for n in DETERMINISTIC[: DETERMINISTIC.index(name)])
    return case["features"][:, start : start + WIDTHS[name]]


class TestAgainstSFMixedStates:
    def test_the_oracle_is_mixed_and_lossy(self, case):
        purity = [
            float(np.real(np.trace(s.reduced_dm(0) @ s.reduced_dm(0)))) for s in case["states"]
        ]
        assert not case["states"][0].is_pure and max(purity) < 0.99

    def test_quadratures_at_angles(self, case, tol):
        expected = np.stack(
            [
                [
                    s.quad_expectation(m, phi + k * math.pi / 2)[0]
                    for m, phi in enumerate(ANGLES)
                    for k in (0, 1)
                ]
                for s in case["states"]
            ]
        )
        assert_close(block(case, "quadratures"), expected, case["dtype"], tol, "quadratures")

    def test_mean_photon(self, case, tol):
        expected = [[s.mean_photon(m)[0] for m in range(N_MODES)] for s in case["states"]]
        assert_close(block(case, "mean_photon"), expected, case["dtype"], tol, "mean_photon")

    def test_photon_marginals_are_reduced_dm_diagonals(self, case, tol):
        expected = [
            np.concatenate([np.real(np.diag(s.reduced_dm(m))) for m in range(N_MODES)])
            for s in case["states"]
        ]
        assert_close(block(case, "photon_marginals"), expected, case["dtype"], tol, "marginals")

    def test_fock_probs_row_major(self, case, tol):
        expected = [np.real(s.all_fock_probs()).reshape(-1) for s in case["states"]]
        assert_close(block(case, "fock_probs"), expected, case["dtype"], tol, "fock_probs")

    def test_leakage_is_one_minus_sf_trace(self, case, tol):
        expected = [1.0 - np.real(s.trace()) for s in case["states"]]
        assert_close(case["leakage"], expected, case["dtype"], tol, "leakage")

    def test_x_phi_density_is_the_sf_wigner_marginal_after_rotation(self, case, tol):
        """The homodyne density at angle phi is SF's x marginal (its Wigner function
        integrated over p) after ``Rgate(-phi)``, SF's own ``MeasureHomodyne(phi)`` recipe."""
        if case["dtype"] != tf.complex128:
            pytest.skip("one dtype suffices: the density is a function of reduced_dm")
        gen = case["gen"]
        result = gen.state(tf.constant(Z))
        grid = homodyne_grid(CUTOFF, 129)
        pvec = np.linspace(-12, 12, 401)
        for m, phi in enumerate(ANGLES):
            rotated = sf.Program(N_MODES)
            rotated.free_params = dict(gen.program.free_params)  # the same parameters
            with rotated.context as q:
                for cmd in gen.program.circuit:
                    cmd.op | tuple(q[r.ind] for r in cmd.reg)
                sf.ops.Rgate(-phi) | q[m]
            states = sf_mixed_states(gen, Z, rotated)
            got = x_density(result, m, grid, phi).numpy()
            expected = np.stack([s.x_quad_values(m, grid, pvec) for s in states])
            assert_close(got, expected, case["dtype"], tol, f"x_phi density of mode {m}")


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
@pytest.mark.parametrize("loss_at", ["measurement", "layers"])
def test_gradients_through_loss_match_central_differences(loss_at, tol, check):
    gen = lossy_generator(
        tf.complex128, loss_at, n_layers=1, cutoff=4, readout=("quadratures", "mean_photon")
    )
    z = tf.constant(Z[:2])
    proj = tf.constant(np.random.default_rng(4).normal(size=gen.n_features))

    def objective():
        return tf.reduce_sum(gen(z) * proj)

    with tf.GradientTape() as tape:
        value = objective()
    grad = tape.gradient(value, gen.weights_vector).numpy()
    w0 = gen.weights_vector.numpy()
    fd = np.zeros_like(w0)
    h = tol.fd_step
    try:
        for j in range(len(w0)):
            values = []
            for sign in (1, -1):
                w = w0.copy()
                w[j] += sign * h
                gen.weights_vector.assign(w)
                values.append(objective().numpy())
            fd[j] = (values[0] - values[1]) / (2 * h)
    finally:
        gen.weights_vector.assign(w0)
    assert np.count_nonzero(np.abs(fd) > 1e-6) > len(w0) // 2  # the gradient is not trivial
    check.gradients(grad, fd, tol.fd_rtol, what=f"loss at {loss_at}")
