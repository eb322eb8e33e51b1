"""Photon loss in the generator (``loss``, ``loss_at``; config keys ``generator.loss``,
``generator.loss_at``).

Oracles: the program's own command list (where the ``LossChannel`` ops sit and their
transmissivities ``T = 1 - loss``); the lossless generator (loss 0 must be today's program
and numbers, bit for bit); Strawberry Fields' ``fock`` backend in its mixed-state mode run
on the same program with the same bound arguments (every readout of a lossy generator);
central finite differences (complex128) for gradients through the channels.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from qgan.gan.config import parse_config
from qgan.gan.model import build_generator
from qgan.generator import CVGenerator
from qgan.generator.circuit import cv_layer_program

N_MODES, CUTOFF, SCALE = 2, 5, 0.5
Z = np.random.default_rng(11).normal(size=(3, N_MODES))


def commands(program):
    """``(op name, modes, parameters)`` of every command, in order."""
    return [
        (c.op.__class__.__name__, tuple(r.ind for r in c.reg), tuple(map(str, c.op.p)))
        for c in program.circuit
    ]


def losses_in(program):
    """``(position, mode, T)`` of every LossChannel."""
    return [
        (i, c.reg[0].ind, float(c.op.p[0]))
        for i, c in enumerate(program.circuit)
        if c.op.__class__.__name__ == "LossChannel"
    ]


def generator(readout=("quadratures",), dtype=tf.complex128, **kwargs):
    return CVGenerator(
        N_MODES,
        kwargs.pop("n_layers", 1),
        CUTOFF,
        readout=readout,
        encoding_scale=SCALE,
        dtype=dtype,
        init_std=0.3,
        seed=7,
        **kwargs,
    )


# --------------------------------------------------------------------------- the program


class TestProgram:
    @pytest.mark.parametrize("loss", [0, 0.0, [0.0, 0.0]], ids=str)
    @pytest.mark.parametrize("loss_at", ["measurement", "layers", "both"])
    def test_zero_loss_is_the_lossless_program(self, loss, loss_at):
        lossless = cv_layer_program(N_MODES, 2, N_MODES)
        lossy = cv_layer_program(N_MODES, 2, N_MODES, loss=loss, loss_at=loss_at)
        assert commands(lossy.program) == commands(lossless.program)
        assert lossy.weight_names == lossless.weight_names

    def test_zero_loss_gives_the_lossless_features_bit_for_bit(self):
        readout = ("photon_samples", "quadratures", "mean_photon", "homodyne")
        default = generator(readout, tf.complex64)
        zero = generator(readout, tf.complex64, loss=[0.0, 0.0], loss_at="both")
        noise = tf.constant(np.random.default_rng(3).uniform(size=(3, default.n_noise)), tf.float32)
        inputs = (tf.constant(Z, tf.float32), noise)
        np.testing.assert_array_equal(zero(inputs).numpy(), default(inputs).numpy())

    def test_measurement_loss_follows_the_last_gate_of_every_mode(self):
        circuit = cv_layer_program(3, 2, 3, loss=0.1, loss_at="measurement")
        n = len(circuit.program.circuit)
        assert losses_in(circuit.program) == [(n - 3 + m, m, pytest.approx(0.9)) for m in range(3)]

    def test_layer_loss_follows_each_layer(self):
        lossless = commands(cv_layer_program(2, 3, 2).program)
        circuit = cv_layer_program(2, 3, 2, loss=0.2, loss_at="layers")
        found = losses_in(circuit.program)
        assert [(m, t) for _, m, t in found] == [
            (m, pytest.approx(0.8)) for _ in range(3) for m in range(2)
        ]
        # removing the channels gives back the lossless program, and each pair of
        # channels sits right after a layer's last gate (a Kerr gate)
        kept = [c for c in commands(circuit.program) if c[0] != "LossChannel"]
        assert kept == lossless
        ops = commands(circuit.program)
        for position, _, _ in found[::2]:
            assert ops[position - 1][0] == "Kgate"

    def test_both_puts_two_channels_after_the_last_layer(self):
        circuit = cv_layer_program(2, 2, 2, loss=0.3, loss_at="both")
        assert len(losses_in(circuit.program)) == 2 * 2 + 2
        assert [c[0] for c in commands(circuit.program)[-4:]] == ["LossChannel"] * 4

    def test_per_mode_list_puts_channels_only_on_lossy_modes(self):
        circuit = cv_layer_program(3, 1, 3, loss=[0.05, 0.0, 0.2])
        assert [(m, t) for _, m, t in losses_in(circuit.program)] == [
            (0, pytest.approx(0.95)),
            (2, pytest.approx(0.8)),
        ]

    @pytest.mark.parametrize(
        "bad", [1.0, -0.1, [0.1], [0.1, 0.2, 0.3], "a", True, float("nan")], ids=str
    )
    def test_bad_loss_names_the_argument(self, bad):
        with pytest.raises(ValueError, match=r"^loss must be a number in \[0, 1\) or a list of 2"):
            generator(loss=bad)

    def test_bad_loss_at_names_the_argument(self):
        with pytest.raises(ValueError, match="loss_at"):
            generator(loss=0.1, loss_at="input")

    def test_keras_config_rebuilds_the_lossy_program(self):
        gen = generator(loss=[0.1, 0.25], loss_at="both")
        config = gen.get_config()
        assert (config["loss"], config["loss_at"]) == ([0.1, 0.25], "both")
        back = CVGenerator.from_config(config)
        assert commands(back.program) == commands(gen.program)
        assert back.loss == (0.1, 0.25)


# --------------------------------------------------------------------------- the config


class TestConfig:
    @pytest.mark.parametrize(
        "generator_section, message",
        [
            ({"loss": 1.0}, "generator.loss: expected a photon-loss fraction in [0, 1)"),
            ({"loss": -0.01}, "generator.loss: expected a photon-loss fraction in [0, 1)"),
            ({"loss": "high"}, "generator.loss: expected a photon-loss fraction in [0, 1)"),
            ({"loss": [0.1, 0.1]}, "generator.loss: expected one value per mode (4)"),
            ({"loss_at": "input"}, "generator.loss_at: Input should be 'measurement'"),
            (
                {"quadrature_angles": [0.0]},
                "generator.quadrature_angles: expected one value per mode (4)",
            ),
        ],
    )
    def test_errors_are_one_line_naming_the_key(self, generator_section, message):
        with pytest.raises(ValueError) as err:
            parse_config({"generator": generator_section})
        text = str(err.value)
        assert text.startswith(f"config key {message}") and "\n" not in text

    def test_config_builds_the_lossy_generator(self):
        cfg = parse_config(
            {
                "generator": {
                    "n_modes": 2,
                    "latent_dim": 2,
                    "readout": ["mean_photon", "quadratures"],
                    "loss": [0.1, 0.2],
                    "loss_at": "layers",
                    "quadrature_angles": [0.5, 1.0],
                },
                "decoder": {"kind": "affine"},
            }
        )
        gen = build_generator(cfg)
        assert gen.loss == (0.1, 0.2) and gen.loss_at == "layers"
        assert gen.spec.quadrature_angles == (0.5, 1.0)
        assert [(m, t) for _, m, t in losses_in(gen.program)] == [
            (0, pytest.approx(0.9)),
            (1, pytest.approx(0.8)),
        ] * 2

    def test_classical_generator_ignores_the_keys(self):
        cfg = parse_config({"generator": {"kind": "classical", "n_outcomes": 2, "loss": 0.1}})
        assert cfg.generator.loss == 0.0
