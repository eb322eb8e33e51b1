"""Quadrature readouts at any angle (``quadrature_angles``): ``quadratures`` reads
``<x_phi>``, ``<x_{phi + pi/2}>`` and ``homodyne`` samples ``x_phi = x cos(phi) + p sin(phi)``.

Oracles: Strawberry Fields' ``fock`` backend on the generator's Program with the same bound
arguments: ``quad_expectation(mode, phi)`` of the reduced states, and for densities the
program followed by ``Rgate(-phi)`` on the mode (SF's own ``MeasureHomodyne(phi)`` recipe,
since ``x`` after ``R(-phi)`` is ``x_phi`` before it) read with ``x_quad_values`` (the
Wigner function integrated over p). Closed form: a coherent state ``|alpha>`` has x_phi
density N(2 Re(alpha e^{-i phi}), 1) (hbar = 2).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from scipy import stats
from strawberryfields import ops

from qgan.generator import CVGenerator
from qgan.generator.readout import ReadoutSpec, homodyne_grid, read, x_density
from qgan.photonic.result import FockResult

N_MODES, CUTOFF, SCALE = 2, 5, 0.5
ANGLES = (0.7, -2.1)


def generator(readout, angles=None, dtype=tf.complex128):
    return CVGenerator(
        N_MODES,
        1,
        CUTOFF,
        readout=readout,
        encoding_scale=SCALE,
        dtype=dtype,
        init_std=0.3,
        seed=7,
        quadrature_angles=angles,
    )


def bound_args(gen, z):
    args = {f"z{i}": SCALE * z[:, i] for i in range(N_MODES)}
    args.update(
        zip(gen.circuit.weight_names, gen.weights_vector.numpy().astype(float), strict=True)
    )
    return args


Z = np.random.default_rng(11).normal(size=(3, N_MODES))


@pytest.mark.parametrize("dtype", [tf.complex64, tf.complex128], ids=["c64", "c128"])
def test_quadratures_at_angles_are_sf_quad_expectations(dtype, sf_fock, tol):
    gen = generator(("quadratures",), ANGLES, dtype)
    got = gen(tf.constant(Z)).numpy()
    ref = sf_fock(gen.program, CUTOFF, bound_args(gen, Z))
    for m, phi in enumerate(ANGLES):
        for k, angle in enumerate((phi, phi + math.pi / 2)):
            expected = ref.quad_expectation(m, angle)[0]
            np.testing.assert_allclose(
                got[:, 2 * m + k], expected, rtol=0, atol=tol.observable[dtype]
            )


def test_angle_zero_is_the_default_readout_bit_for_bit():
    default = generator(("quadratures", "homodyne"), None, tf.complex64)
    zeros = generator(("quadratures", "homodyne"), [0.0] * N_MODES, tf.complex64)
    noise = tf.constant(np.random.default_rng(3).uniform(size=(3, N_MODES)), tf.float32)
    inputs = (tf.constant(Z, tf.float32), noise)
    np.testing.assert_array_equal(default(inputs).numpy(), zeros(inputs).numpy())


def test_x_phi_density_is_sf_wigner_marginal_after_rotation(sf_fock, gen_tol):
    gen = generator(("quadratures",), None, tf.complex128)
    result = gen.state(tf.constant(Z))
    grid = homodyne_grid(CUTOFF, 257)
    pvec = np.linspace(-12, 12, 401)
    for m, phi in enumerate(ANGLES):
        got = x_density(result, m, grid, phi).numpy()
        rotated = sf.Program(N_MODES)
        with rotated.context as q:
            for cmd in gen.program.circuit:
                cmd.op | tuple(q[r.ind] for r in cmd.reg)
            ops.Rgate(-phi) | q[m]
        ref = sf_fock(rotated, CUTOFF, bound_args(gen, Z))
        expected = np.stack([s.x_quad_values(m, grid, pvec) for s in ref.states])
        np.testing.assert_allclose(got, expected, rtol=0, atol=gen_tol.wigner)


@pytest.mark.parametrize("phi", [0.4, math.pi / 2, 2.5])
def test_homodyne_at_angle_samples_the_rotated_coherent_gaussian(phi, gen_tol):
    alpha = 0.8 - 0.3j
    n = np.arange(24)
    log_fact = np.array([math.lgamma(k + 1) for k in n])
    ket = np.exp(-(abs(alpha) ** 2) / 2 - 0.5 * log_fact) * alpha**n
    u = np.linspace(0.05, 0.95, 19)
    result = FockResult(tf.constant(np.tile(ket, (len(u), 1)), tf.complex128), 24, 1, True)
    spec = ReadoutSpec(("homodyne",), 1, 24, (0,), quadrature_angles=(phi,))
    got = read(result, spec, tf.constant(u[:, None])).numpy()[:, 0]
    mean = 2 * (alpha * np.exp(-1j * phi)).real
    np.testing.assert_allclose(got, mean + stats.norm.ppf(u), rtol=0, atol=gen_tol.quantile)


@pytest.mark.parametrize("bad", [[0.1], [0.0, float("nan")], 0.5, [0.0, True], ["a", 0.0]], ids=str)
def test_bad_angles_name_the_argument(bad):
    with pytest.raises(ValueError, match=r"^quadrature_angles must be 2 finite angles"):
        generator(("quadratures",), bad)


def test_angles_survive_a_keras_round_trip(tmp_path):
    gen = generator(("quadratures",), ANGLES, tf.complex64)
    assert gen.get_config()["quadrature_angles"] == list(ANGLES)
    path = tmp_path / "g.keras"
    gen.save(path)
    back = tf.keras.models.load_model(path)
    z = tf.constant(Z, tf.float32)
    np.testing.assert_array_equal(back(z).numpy(), gen(z).numpy())
