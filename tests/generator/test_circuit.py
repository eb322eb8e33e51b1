"""Specification of ``qgan.generator.circuit``: the CV neural-network layer as an SF Program.

Killoran et al., Phys. Rev. Research 1, 033063 (2019): after the encoding gates, each layer
is interferometer -> squeezers -> interferometer -> displacements -> Kerr gates. An
interferometer is a rectangular (Clements) mesh of n(n-1)/2 nearest-neighbour
``BSgate(theta, phi)`` (two free parameters each) followed by one ``Rgate`` per mode, so a
layer on n modes has 2 (n(n-1) + n) + 2n + 2n + n free parameters. Oracles: these counts,
the gate definitions' argument order in ``strawberryfields.ops``, and the Program's own
record of its free parameters.
"""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from qgan.generator.circuit import ENCODINGS, cv_layer_program

# (gate, argument position) -> the weight kind the circuit documents for it
KIND_OF_ARGUMENT = {
    ("BSgate", 0): "bs_theta",
    ("BSgate", 1): "bs_phi",
    ("Rgate", 0): "r_phi",
    ("Sgate", 0): "s_r",
    ("Sgate", 1): "s_phi",
    ("Dgate", 0): "d_r",
    ("Dgate", 1): "d_phi",
    ("Kgate", 0): "k",
}


def expected_counts(n: int, layers: int) -> dict:
    """Free parameters per kind, from the layer's definition."""
    beamsplitters = n * (n - 1) // 2
    return {
        "bs_theta": layers * 2 * beamsplitters,
        "bs_phi": layers * 2 * beamsplitters,
        "r_phi": layers * 2 * n,
        "s_r": layers * n,
        "s_phi": layers * n,
        "d_r": layers * n,
        "d_phi": layers * n,
        "k": layers * n,
    }


def commands(circuit):
    """(gate name, mode indices, parameter names or values) per command, program order."""
    out = []
    for cmd in circuit.program.circuit:
        params = [p.name if isinstance(p, sympy.Symbol) else p for p in cmd.op.p]
        out.append((cmd.op.__class__.__name__, tuple(r.ind for r in cmd.reg), params))
    return out


def layer_commands(circuit):
    """Commands after the encoding gates."""
    cmds = commands(circuit)
    latent = set(circuit.latent_names)
    start = max(
        (i for i, (_, _, ps) in enumerate(cmds) if any(p in latent for p in ps)), default=-1
    )
    return cmds[start + 1 :]


shapes = st.tuples(
    st.integers(1, 5), st.integers(0, 3), st.integers(1, 6), st.sampled_from(ENCODINGS)
)


class TestParameterCounts:
    @pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
    @pytest.mark.parametrize("layers", [0, 1, 2])
    def test_counts_per_kind(self, n, layers):
        circuit = cv_layer_program(n, layers, latent_dim=n)
        counts = {k: circuit.weight_kinds.count(k) for k in KIND_OF_ARGUMENT.values()}
        assert counts == expected_counts(n, layers)
        per_layer = 2 * (n * (n - 1) + n) + 2 * n + 2 * n + n
        assert len(circuit.weight_names) == layers * per_layer
        assert len(circuit.weight_kinds) == len(circuit.weight_names)

    def test_one_mode_layer_is_r_s_r_d_k(self):
        # Killoran et al.'s one-mode layer: the interferometers reduce to single rotations
        circuit = cv_layer_program(1, 1, latent_dim=1)
        gates = [name for name, _, _ in layer_commands(circuit)]
        assert gates == ["Rgate", "Sgate", "Rgate", "Dgate", "Kgate"]


class TestLayerStructure:
    @pytest.mark.parametrize("n", [2, 3, 4])
    def test_gate_order_of_a_layer(self, n):
        circuit = cv_layer_program(n, 2, latent_dim=n)
        bs = n * (n - 1) // 2
        one_layer = (
            ["BSgate"] * bs
            + ["Rgate"] * n
            + ["Sgate"] * n
            + ["BSgate"] * bs
            + ["Rgate"] * n
            + ["Dgate"] * n
            + ["Kgate"] * n
        )
        assert [name for name, _, _ in layer_commands(circuit)] == one_layer * 2

    @pytest.mark.parametrize("n", [2, 3, 4, 5])
    def test_interferometer_is_a_rectangular_nearest_neighbour_mesh(self, n):
        circuit = cv_layer_program(n, 1, latent_dim=n)
        pairs = [modes for name, modes, _ in layer_commands(circuit) if name == "BSgate"]
        half = len(pairs) // 2
        mesh = pairs[:half]
        assert pairs[half:] == mesh  # both interferometers have the same mesh
        assert len(mesh) == n * (n - 1) // 2
        # Clements: n columns alternating even / odd nearest-neighbour pairs
        expected = [(i, i + 1) for col in range(n) for i in range(col % 2, n - 1, 2)]
        assert mesh == expected

    @given(shapes)
    def test_two_mode_gates_never_have_mode_0_second(self, shape):
        # SF 0.23's fock backend misapplies a two-mode gate whose second mode is mode 0
        # (tests/conftest.py); the generator's gates act on (q[i], q[i+1]) only.
        n, layers, latent_dim, encoding = shape
        circuit = cv_layer_program(n, layers, latent_dim, encoding)
        for name, modes, _ in commands(circuit):
            if len(modes) == 2:
                assert modes[1] == modes[0] + 1, (name, modes)

    @given(shapes)
    def test_weight_kinds_name_the_gate_argument(self, shape):
        n, layers, latent_dim, encoding = shape
        circuit = cv_layer_program(n, layers, latent_dim, encoding)
        kind_of = dict(zip(circuit.weight_names, circuit.weight_kinds, strict=True))
        in_program_order = []
        for name, _, params in layer_commands(circuit):
            for position, p in enumerate(params):
                assert isinstance(p, str), f"{name} argument {position} is not free: {p!r}"
                assert kind_of[p] == KIND_OF_ARGUMENT[(name, position)], (name, position, p)
                in_program_order.append(p)
        assert tuple(in_program_order) == circuit.weight_names


class TestFreeParameters:
    @given(shapes)
    def test_every_name_is_a_free_parameter_of_the_program(self, shape):
        n, layers, latent_dim, encoding = shape
        circuit = cv_layer_program(n, layers, latent_dim, encoding)
        names = circuit.latent_names + circuit.weight_names
        assert len(set(names)) == len(names), "duplicate parameter names"
        assert set(circuit.program.free_params) == set(names)
        used = {p for _, _, params in commands(circuit) for p in params if isinstance(p, str)}
        assert used == set(names), "a free parameter is not an argument of any gate"
        assert circuit.program.num_subsystems == n
        assert (circuit.n_modes, circuit.n_layers, circuit.encoding) == (n, layers, encoding)


class TestEncoding:
    @pytest.mark.parametrize("latent_dim", [1, 2, 5])
    def test_displacement_along_x_on_mode_i_mod_n(self, latent_dim):
        circuit = cv_layer_program(2, 1, latent_dim, "displacement")
        assert circuit.latent_names == tuple(f"z{i}" for i in range(latent_dim))
        enc = commands(circuit)[:latent_dim]
        assert enc == [("Dgate", (i % 2,), [f"z{i}", 0.0]) for i in range(latent_dim)]

    def test_squeezing(self):
        circuit = cv_layer_program(3, 1, 4, "squeezing")
        enc = commands(circuit)[:4]
        assert enc == [("Sgate", (i % 3,), [f"z{i}", 0.0]) for i in range(4)]

    def test_phase_of_a_coherent_state(self):
        circuit = cv_layer_program(2, 1, 3, "phase")
        enc = commands(circuit)[:6]
        expected = []
        for i in range(3):
            expected += [("Dgate", (i % 2,), [1.0, 0.0]), ("Rgate", (i % 2,), [f"z{i}"])]
        assert enc == expected

    @pytest.mark.parametrize("bad", ["amplitude", "", "Displacement", None])
    def test_bad_encoding_names_the_argument(self, bad):
        with pytest.raises(ValueError, match="encoding") as info:
            cv_layer_program(2, 1, 2, bad)
        assert repr(bad) in str(info.value)
