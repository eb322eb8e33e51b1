"""Specification of ``qgan.gan.discriminator.QubitDiscriminator`` and
``discriminator.kind: qubit``: the packed point tiled over the qubits (qubit q reads
coordinate q mod (d * pack)), re-uploaded through a ``QubitLayer``, its readouts -> Dense(1).

Oracles: Cirq's state-vector simulator (``cirq.Simulator``) on the exported circuit of each
tiled row, <Z_q> from its final state, pushed through the head's weights in float64
(float32 tolerance); the discriminator's own autodiff gradient for its parameter-shift
twin (same weights); the config loader's one-line errors.
"""

from __future__ import annotations

from pathlib import Path

import cirq
import numpy as np
import pytest
import tensorflow as tf

from qgan.gan.config import load_config
from qgan.gan.discriminator import QubitDiscriminator
from qgan.gan.model import build_model
from qgan.gan.training import train

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "bimodal_qubit_disc.yaml"
FLOAT32 = 2e-5  # float32 simulation (complex64) against Cirq's complex64 / float64 head


def cirq_logits(disc: QubitDiscriminator, points: np.ndarray) -> np.ndarray:
    """Pack, tile, simulate each row in Cirq, <Z_q> by hand, head in float64."""
    width = disc.input_dim * disc.pack
    rows = points.reshape(-1, width).astype(np.float64)
    n = disc.circuit.model.n_qubits
    tiled = rows[:, [q % width for q in range(n)]]
    z = np.array([1.0, -1.0])
    readouts = []
    for row in tiled:
        circuit = disc.circuit.to_cirq(row)
        state = (
            cirq.Simulator(dtype=np.complex128)
            .simulate(circuit, qubit_order=cirq.LineQubit.range(n))
            .final_state_vector
        )
        probs = np.abs(state.reshape([2] * n)) ** 2
        readouts.append(
            [
                np.tensordot(probs.sum(axis=tuple(a for a in range(n) if a != q)), z, 1)
                for q in range(n)
            ]  # fmt: skip
        )
    kernel, bias = (w.numpy().astype(np.float64) for w in disc.head.weights)
    return (np.array(readouts) @ kernel + bias)[:, 0]


@pytest.mark.parametrize("pack,n_qubits", [(1, 2), (1, 5), (2, 4)])
def test_logits_equal_cirq_on_the_tiled_packed_points(pack, n_qubits):
    disc = QubitDiscriminator(2, n_qubits=n_qubits, depth=2, pack=pack, seed=3)
    rng = np.random.default_rng(pack + n_qubits)
    disc.circuit.input_scale.assign(rng.uniform(0.5, 1.5, disc.circuit.input_scale.shape))
    disc.head.bias.assign(rng.normal(0.0, 0.5, 1))
    points = rng.normal(0.0, 1.5, (6 * pack, 2)).astype(np.float32)
    logits = disc(points)
    assert logits.dtype == tf.float32 and logits.shape == (6,)
    np.testing.assert_allclose(logits.numpy(), cirq_logits(disc, points), atol=FLOAT32)


@pytest.mark.slow  # about 4 s: 2 x 24 shifted circuits per row, traced
def test_parameter_shift_discriminator_gradient_equals_autodiff():
    """The same weights with gradient parameter_shift (hardware's rule, on the simulator)
    give the autodiff gradient w.r.t. every weight and the input points."""
    kw = {"n_qubits": 4, "depth": 2, "seed": 5, "dtype": "float64"}
    exact, shifted = (
        QubitDiscriminator(2, **kw),
        QubitDiscriminator(2, gradient="parameter_shift", **kw),
    )
    for a, b in zip(exact.weights, shifted.weights):
        b.assign(a)
    points = tf.constant(np.random.default_rng(0).normal(0.0, 1.5, (7, 2)))
    grads = []
    for disc in (exact, shifted):
        with tf.GradientTape() as tape:
            tape.watch(points)
            loss = tf.reduce_sum(tf.sin(disc(points)))
        grads.append(tape.gradient(loss, [points, *disc.trainable_variables]))
    for g_exact, g_shift in zip(*grads):
        np.testing.assert_allclose(g_shift.numpy(), g_exact.numpy(), atol=1e-10)


def test_keras_round_trip_gives_identical_logits(tmp_path):
    disc = QubitDiscriminator(2, n_qubits=3, depth=2, measurement="z_zz", seed=2)
    points = np.random.default_rng(1).normal(size=(5, 2)).astype(np.float32)
    wrapper = tf.keras.Sequential([tf.keras.Input((2,)), disc])
    path = tmp_path / "disc.keras"
    wrapper.save(path)
    again = tf.keras.models.load_model(path)
    np.testing.assert_array_equal(again(points).numpy(), wrapper(points).numpy())
    config = disc.get_config()
    assert config["measurement"] == "z_zz" and config["n_qubits"] == 3


def test_too_few_qubits_for_the_packed_point_are_refused():
    with pytest.raises(ValueError, match="n_qubits.*>= input_dim \\* pack = 4"):
        QubitDiscriminator(2, n_qubits=3, pack=2)


@pytest.mark.parametrize(
    "overrides,match",
    [
        ({"discriminator.n_qubits": 3, "discriminator.pack": 2}, "discriminator.n_qubits"),
        ({"discriminator.backend": "ionq", "discriminator.shots": 100}, "discriminator.gradient"),
        (
            {"discriminator.backend": "ionq", "discriminator.gradient": "spsa"},
            "discriminator.shots",
        ),
        ({"discriminator.shots": 100}, "discriminator.shots"),
        ({"discriminator.target": "qpu.aria-1"}, "discriminator.target"),
        ({"discriminator.gradient_penalty": 1.0}, "discriminator.gradient_penalty"),
        ({"discriminator.entangler": "swap"}, "discriminator.entangler"),
    ],
)
def test_bad_qubit_discriminator_keys_are_refused_naming_the_key(overrides, match):
    with pytest.raises(ValueError, match=match):
        load_config(CONFIG, overrides=overrides)


def test_mlp_kind_ignores_the_circuit_keys_and_qubit_kind_the_widths():
    mlp = load_config(ROOT / "configs" / "bimodal.yaml", overrides={"discriminator.depth": 7})
    assert mlp.discriminator.kind == "mlp" and mlp.discriminator.depth == 3  # reset: unused
    qubit = load_config(CONFIG, overrides={"discriminator.hidden": [5]})
    assert qubit.discriminator.hidden == [64, 64]


def test_build_model_makes_the_configured_circuit():
    cfg = load_config(
        CONFIG, overrides={"discriminator.depth": 2, "discriminator.measurement": "z_zz"}
    )
    model = build_model(cfg, np.zeros((10, 2), np.float32))
    disc = model.discriminator
    assert isinstance(disc, QubitDiscriminator)
    m = disc.circuit.model
    assert (m.n_qubits, m.depth, m.encoding, m.measurement) == (4, 2, "reupload", "z_zz")
    assert disc.circuit.input_scaling == "feature_layer"


@pytest.mark.slow  # a few seconds: builds and trains the GAN step
def test_shrunken_config_trains_and_moves_the_qubit_weights(tmp_path):
    """configs/bimodal_qubit_disc.yaml, shrunken, trains; every discriminator weight (the
    circuit's angles and input weights, the head) gets a finite non-zero gradient and moves."""
    shrink = {
        "generator.n_modes": 2,
        "generator.cutoff": 3,
        "generator.n_layers": 1,
        "generator.latent_dim": 2,
        "generator.sample_modes": [0],
        "train.steps": 4,
        "train.batch_size": 32,
        "train.eval_every": 4,
        "train.checkpoint_every": 4,
        "train.eval_samples": 64,
        "data.n_samples": 400,
        "output.dir": str(tmp_path),
        "output.tensorboard": False,
        "output.plots": False,
    }
    cfg = load_config(CONFIG, overrides=shrink)
    before = build_model(cfg, np.zeros((4, 2), np.float32)).discriminator
    start = {v.name: v.numpy().copy() for v in before.trainable_variables}
    result = train(cfg, progress=False)
    assert result.metrics["steps"] == 4
    assert result.metrics["metrics"]["gradient_flow"] == 1.0
    assert result.metrics["n_params"]["discriminator"] == 4 * 3 * 2 + 4 * 3 + 4 + 1
    # the same initial weights (seeded); the trained ones, restored from the checkpoint
    cfg2 = load_config(CONFIG, overrides=shrink)
    model = build_model(cfg2, np.zeros((4, 2), np.float32))
    ckpt = tf.train.Checkpoint(discriminator=model.discriminator)
    ckpt.restore(str(result.run_dir / result.metrics["checkpoint"])).expect_partial()
    for v in model.discriminator.trainable_variables:
        assert np.all(np.isfinite(v.numpy()))
        assert not np.allclose(v.numpy(), start[v.name]), f"{v.name} did not move"
