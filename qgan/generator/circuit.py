"""The generator's circuit: the CV neural-network layer of Killoran et al. as an SF Program.

Killoran, Bromley, Arrazola, Schuld, Quesada, Lloyd, "Continuous-variable quantum neural
networks", Phys. Rev. Research 1, 033063 (2019): one layer is interferometer -> squeezers ->
interferometer -> displacements -> Kerr gates. Interferometers are rectangular (Clements)
meshes of ``BSgate(theta, phi)`` followed by one ``Rgate`` per mode, so every angle is a free
parameter of the Program that training binds.
"""

from __future__ import annotations

from dataclasses import dataclass

import qgan._compat  # noqa: F401  (must precede strawberryfields)

import strawberryfields as sf
from strawberryfields import ops

from qgan._validate import check_choice

ENCODINGS = ("displacement", "squeezing", "phase")


@dataclass(frozen=True)
class GeneratorCircuit:
    """An SF Program with its free parameters split by role.

    ``latent_names[i]`` receives ``encoding_scale * z[:, i]`` (per sample);
    ``weight_names`` are the trainable, batch-independent gate arguments, in program order.
    ``weight_kinds[j]`` says which gate argument ``weight_names[j]`` is (``bs_theta``,
    ``bs_phi``, ``r_phi``, ``s_r``, ``s_phi``, ``d_r``, ``d_phi``, ``k``), for initialisation.
    """

    program: sf.Program
    latent_names: tuple[str, ...]
    weight_names: tuple[str, ...]
    weight_kinds: tuple[str, ...]
    n_modes: int
    n_layers: int
    encoding: str


def cv_layer_program(
    n_modes: int,
    n_layers: int,
    latent_dim: int,
    encoding: str = "displacement",
    final_kerr: bool = True,
) -> GeneratorCircuit:
    """Encoding gates followed by ``n_layers`` CV neural-network layers on ``n_modes`` modes.

    ``final_kerr=False`` leaves out the last layer's Kerr gates: they are diagonal in the
    Fock basis, so no photon-number statistic depends on them (dead parameters for a
    generator that reads photon numbers only).

    Encoding: latent component ``i`` drives one gate on mode ``i % n_modes``:
    ``Dgate(z_i, 0)`` (displacement along x), ``Sgate(z_i, 0)`` (squeezing) or
    ``Rgate(z_i)`` applied after a fixed ``Dgate(1, 0)`` (phase of a coherent state).
    """
    check_choice(encoding, "encoding", ENCODINGS)
    prog = sf.Program(n_modes)
    latent = tuple(f"z{i}" for i in range(latent_dim))
    names: list[str] = []
    kinds: list[str] = []

    def param(name: str, kind: str):
        names.append(name)
        kinds.append(kind)
        return prog.params(name)

    def interferometer(tag: str, q) -> None:
        # Clements rectangular mesh: n_modes columns of nearest-neighbour beamsplitters
        # (none for one mode, where the interferometer is the single rotation, as in
        # Killoran et al.'s one-mode layer R S R D K).
        for col in range(n_modes):
            for i in range(col % 2, n_modes - 1, 2):
                theta = param(f"{tag}_bs{col}_{i}_theta", "bs_theta")
                phi = param(f"{tag}_bs{col}_{i}_phi", "bs_phi")
                ops.BSgate(theta, phi) | (q[i], q[i + 1])
        for i in range(n_modes):
            ops.Rgate(param(f"{tag}_r{i}", "r_phi")) | q[i]

    with prog.context as q:
        for i, name in enumerate(latent):
            z = prog.params(name)
            mode = i % n_modes
            if encoding == "displacement":
                ops.Dgate(z, 0.0) | q[mode]
            elif encoding == "squeezing":
                ops.Sgate(z, 0.0) | q[mode]
            else:
                ops.Dgate(1.0, 0.0) | q[mode]
                ops.Rgate(z) | q[mode]
        for layer in range(n_layers):
            interferometer(f"l{layer}_u1", q)
            for i in range(n_modes):
                (
                    ops.Sgate(
                        param(f"l{layer}_s{i}_r", "s_r"), param(f"l{layer}_s{i}_phi", "s_phi")
                    )
                    | q[i]
                )
            interferometer(f"l{layer}_u2", q)
            for i in range(n_modes):
                (
                    ops.Dgate(
                        param(f"l{layer}_d{i}_r", "d_r"), param(f"l{layer}_d{i}_phi", "d_phi")
                    )
                    | q[i]
                )
            if final_kerr or layer < n_layers - 1:
                for i in range(n_modes):
                    ops.Kgate(param(f"l{layer}_k{i}", "k")) | q[i]
    return GeneratorCircuit(
        program=prog,
        latent_names=latent,
        weight_names=tuple(names),
        weight_kinds=tuple(kinds),
        n_modes=n_modes,
        n_layers=n_layers,
        encoding=encoding,
    )
