"""Keras citizenship of the generators: registered classes, complete configs, exact reloads.

A ``.keras`` file is the oracle's counterpart: the generator that wrote it. Reloaded with
``tf.keras.models.load_model`` and no ``custom_objects`` (the classes register themselves
under the package ``qgan``), a generator must have the same config (every constructor
argument) and give the SAME features, bit for bit (atol 0): same circuit, same weights,
same readout-noise stream. Stochastic readouts are compared at the same explicit
``(z, noise)`` and also through the restored noise stream (``z`` alone).

``summary()`` is checked against the SF Program itself: per gate class, how many gates
carry trainable arguments and how many arguments they carry.

Tiny circuits (2 modes, cutoff 3, 1 layer) keep each case well under a second.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf

from qgan.generator import ClassicalGenerator, CVGenerator

# Every readout, encoding, latent and dtype at least once, every constructor argument away
# from its default somewhere.
CASES = {
    "quadratures-displacement-c64": dict(
        readout=("quadratures",), encoding="displacement", latent="normal", dtype="complex64"
    ),
    "mean_photon-squeezing-c128": dict(
        readout=("mean_photon",),
        encoding="squeezing",
        latent="uniform",
        dtype=tf.complex128,
        latent_dim=3,
        encoding_scale=0.3,
        init_std=0.2,
    ),
    "photon_marginals-phase-c64": dict(
        readout=("photon_marginals",),
        encoding="phase",
        latent="uniform",
        dtype="complex64",
        final_kerr=True,
        seed=5,
    ),
    "fock_probs-displacement-c128": dict(
        readout=("fock_probs", "quadratures"),
        encoding="displacement",
        latent="normal",
        dtype="complex128",
        final_kerr=False,
        trainable=False,
        name="probs",
    ),
    "photon_samples-squeezing-c64": dict(
        readout=("photon_samples", "mean_photon"),
        encoding="squeezing",
        latent="normal",
        dtype="complex64",
        sample_modes=(1,),
        temperature=0.3,
        straight_through=False,
    ),
    "homodyne-phase-c128": dict(
        readout=("homodyne",), encoding="phase", latent="uniform", dtype="complex128", seed=2
    ),
}
SMALL = dict(n_modes=2, n_layers=1, cutoff=3)


def make_generator(case: str) -> CVGenerator:
    return CVGenerator(**SMALL, **CASES[case])


def latent_and_noise(gen, batch: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(gen.weights_vector.dtype)
    z = rng.normal(size=(batch, gen.latent_dim)).astype(dtype)
    noise = rng.uniform(size=(batch, gen.n_noise)).astype(dtype)
    return z, noise


def constructor_arguments(cls) -> set[str]:
    params = inspect.signature(cls.__init__).parameters
    return {n for n, p in params.items() if n != "self" and p.kind != p.VAR_KEYWORD}


def save_and_load(model, tmp_path, name: str = "model.keras"):
    path = tmp_path / name
    model.save(path)
    return tf.keras.models.load_model(path)  # no custom_objects: registered classes


# --------------------------------------------------------------------------- CVGenerator


@pytest.mark.parametrize("case", CASES)
def test_config_holds_every_constructor_argument(case):
    gen = make_generator(case)
    config = gen.get_config()
    assert constructor_arguments(CVGenerator) <= set(config)
    given = {**SMALL, **CASES[case]}
    for key, value in given.items():
        expected = tf.as_dtype(value).name if key == "dtype" else value
        expected = list(expected) if isinstance(expected, tuple) else expected
        assert config[key] == expected, key
    assert config["seed"] == given.get("seed", 0) and config["init_std"] == given.get(
        "init_std", 0.1
    )
    again = CVGenerator.from_config(config)
    assert again.get_config() == config
    assert again.gate_argument_names == gen.gate_argument_names
    np.testing.assert_array_equal(again.weights_vector.numpy(), gen.weights_vector.numpy())
    z, noise = latent_and_noise(gen)
    inputs = (z, noise) if gen.n_noise else z
    np.testing.assert_array_equal(again(inputs).numpy(), gen(inputs).numpy())


@pytest.mark.parametrize("case", CASES)
def test_keras_file_round_trip_is_exact(case, tmp_path):
    gen = make_generator(case)
    z, noise = latent_and_noise(gen)
    gen.weights_vector.assign(gen.weights_vector + 0.05)  # "trained": not the seed's weights
    if gen.n_noise:
        gen(z)  # advance the noise stream: its state is saved too
    loaded = save_and_load(gen, tmp_path)
    assert type(loaded) is CVGenerator
    assert loaded.get_config() == gen.get_config()
    assert loaded.name == gen.name and loaded.trainable == gen.trainable
    assert loaded.weights_vector.dtype == gen.weights_vector.dtype
    assert loaded.complex_dtype == gen.complex_dtype
    np.testing.assert_array_equal(loaded.weights_vector.numpy(), gen.weights_vector.numpy())
    if gen.n_noise:
        np.testing.assert_array_equal(loaded((z, noise)).numpy(), gen((z, noise)).numpy())
        np.testing.assert_array_equal(loaded(z).numpy(), gen(z).numpy())  # the stream
    else:
        np.testing.assert_array_equal(loaded(z).numpy(), gen(z).numpy())


def test_round_trip_inside_sequential(tmp_path):
    gen = make_generator("mean_photon-squeezing-c128")
    model = tf.keras.Sequential([tf.keras.Input((gen.latent_dim,), dtype="float64"), gen])
    z, _ = latent_and_noise(gen)
    loaded = save_and_load(model, tmp_path)
    assert isinstance(loaded.layers[0], CVGenerator)
    assert loaded.layers[0].get_config() == gen.get_config()
    np.testing.assert_array_equal(loaded(z).numpy(), model(z).numpy())


# --------------------------------------------------------------------------- classical


CLASSICAL = {
    "continuous": dict(latent_dim=2, hidden=(5,), n_outcomes=0, n_continuous=2),
    "outcomes": dict(
        latent_dim=3,
        hidden=(4, 3),
        n_outcomes=3,
        n_continuous=1,
        temperature=0.2,
        straight_through=False,
        latent="uniform",
        seed=4,
        name="ablation",
    ),
}


@pytest.mark.parametrize("case", CLASSICAL)
def test_classical_config_and_round_trip(case, tmp_path):
    gen = ClassicalGenerator(**CLASSICAL[case])
    config = gen.get_config()
    assert constructor_arguments(ClassicalGenerator) <= set(config)
    for key, value in CLASSICAL[case].items():
        assert config[key] == (list(value) if isinstance(value, tuple) else value), key
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, gen.latent_dim)).astype("float32")
    noise = rng.uniform(size=(5, gen.n_noise)).astype("float32")
    if gen.n_noise:
        gen(z)  # advance the noise stream
    loaded = save_and_load(gen, tmp_path)
    assert type(loaded) is ClassicalGenerator
    assert loaded.get_config() == config
    for a, b in zip(loaded.weights, gen.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    if gen.n_noise:
        np.testing.assert_array_equal(loaded((z, noise)).numpy(), gen((z, noise)).numpy())
    np.testing.assert_array_equal(loaded(z).numpy(), gen(z).numpy())


# --------------------------------------------------------------------------- summary


def gate_arguments_from_program(gen) -> dict[str, tuple[int, int]]:
    """``{gate class: (gates with trainable arguments, trainable arguments)}`` read off the
    SF Program: a gate's argument is trainable when it is a free parameter that is not a
    latent (encoding) parameter."""
    weights = set(gen.circuit.weight_names)
    counts: dict[str, list[int]] = {}
    for cmd in gen.program.circuit:
        names = [
            p.name
            for p in cmd.op.p
            if isinstance(p, sf.parameters.FreeParameter) and p.name in weights
        ]
        if names:
            row = counts.setdefault(type(cmd.op).__name__, [0, 0])
            row[0] += 1
            row[1] += len(names)
    return {k: tuple(v) for k, v in counts.items()}


def owner_gate_of_each_argument(gen) -> list[str]:
    """The SF gate class holding each entry of ``weights_vector``, from the Program."""
    owner = {}
    for cmd in gen.program.circuit:
        for p in cmd.op.p:
            if isinstance(p, sf.parameters.FreeParameter):
                owner[p.name] = type(cmd.op).__name__
    return [owner[n] for n in gen.circuit.weight_names]


@pytest.mark.parametrize("n_modes, n_layers, final_kerr", [(2, 1, True), (3, 2, False)])
def test_summary_names_the_gate_arguments(n_modes, n_layers, final_kerr):
    gen = CVGenerator(n_modes=n_modes, n_layers=n_layers, cutoff=3, final_kerr=final_kerr)
    lines: list[str] = []
    gen.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "gate_arguments" in text
    start = next(i for i, line in enumerate(lines) if line.startswith("gate_arguments ("))
    table = {}
    for line in lines[start + 2 :]:
        if not line.startswith("  ") or line.startswith("  ["):
            break
        gate, n_gates, n_args = line.split()
        table[gate] = (int(n_gates), int(n_args))
    assert table == gate_arguments_from_program(gen)
    names = gen.gate_argument_names
    assert len(names) == len(set(names)) == gen.weights_vector.shape[0]
    for i, name in enumerate(names):
        assert f"  [{i}] {name}" in lines
    # each name's gate ("BS0", "R1", "S0", "D1", "K0") is the gate the Program gives it
    prefix = {"BS": "BSgate", "R": "Rgate", "S": "Sgate", "D": "Dgate", "K": "Kgate"}
    for name, gate in zip(names, owner_gate_of_each_argument(gen), strict=True):
        layer, *_, gate_label, _ = name.split(".")
        assert layer.startswith("layer")
        assert prefix[gate_label.rstrip("0123456789")] == gate, name
    assert names[0] == "layer0.interferometer1.BS0.theta"
    assert names[-1] == (
        f"layer{n_layers - 1}.kerr.K{n_modes - 1}.kappa"
        if final_kerr
        else f"layer{n_layers - 1}.displacements.D{n_modes - 1}.phi"
    )


# --------------------------------------------------------------------------- mixed precision


@pytest.fixture
def mixed_float16():
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("dtype, real", [("complex64", "float32"), ("complex128", "float64")])
def test_generator_keeps_its_dtype_under_mixed_precision(dtype, real, mixed_float16):
    gen = CVGenerator(**SMALL, readout=("quadratures", "mean_photon"), dtype=dtype)
    assert gen.dtype_policy.name == real and gen.weights_vector.dtype == real
    z = np.random.default_rng(0).normal(size=(3, 2)).astype(real)
    out = gen(z)
    assert out.dtype == real
    tf.keras.mixed_precision.set_global_policy("float32")
    reference = CVGenerator(**SMALL, readout=("quadratures", "mean_photon"), dtype=dtype)
    np.testing.assert_array_equal(out.numpy(), reference(z).numpy())
