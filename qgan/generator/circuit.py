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
from qgan.generator.names import LOSS_AT

ENCODINGS = ("displacement", "squeezing", "phase")


@dataclass(frozen=True)
class GeneratorCircuit:
    """An SF Program with its free parameters split by role.

    ``latent_names[i]`` receives ``encoding_scale * z[:, i]`` (per sample);
    ``weight_names`` are the trainable, batch-independent gate arguments, in program order.
    ``weight_kinds[j]`` says which gate argument ``weight_names[j]`` is (``bs_theta``,
    ``bs_phi``, ``r_phi``, ``s_r``, ``s_phi``, ``d_r``, ``d_phi``, ``k``), for initialisation.
    ``weight_labels[j]`` is its readable name, ``layer{l}.{block}.{gate}{k}.{argument}``:
    block ``interferometer1``/``interferometer2`` (beamsplitters ``BS{k}`` in program order,
    then rotations ``R{mode}``), ``squeezers``, ``displacements`` or ``kerr``; e.g.
    ``layer0.interferometer1.BS0.theta``, ``layer1.squeezers.S2.r``, ``layer0.kerr.K1.kappa``.
    ``weight_gates[j]`` is the SF gate class it is an argument of (``BSgate``, ``Rgate``,
    ``Sgate``, ``Dgate``, ``Kgate``).
    """

    program: sf.Program
    latent_names: tuple[str, ...]
    weight_names: tuple[str, ...]
    weight_kinds: tuple[str, ...]
    weight_labels: tuple[str, ...]
    weight_gates: tuple[str, ...]
    n_modes: int
    n_layers: int
    encoding: str


def cv_layer_program(
    n_modes: int,
    n_layers: int,
    latent_dim: int,
    encoding: str = "displacement",
    final_kerr: bool = True,
    loss=0.0,
    loss_at: str = "measurement",
) -> GeneratorCircuit:
    """Encoding gates followed by ``n_layers`` CV neural-network layers on ``n_modes`` modes.

    ``final_kerr=False`` leaves out the last layer's Kerr gates: they are diagonal in the
    Fock basis, so no photon-number statistic depends on them (dead parameters for a
    generator that reads photon numbers only).

    Encoding: latent component ``i`` drives one gate on mode ``i % n_modes``:
    ``Dgate(z_i, 0)`` (displacement along x), ``Sgate(z_i, 0)`` (squeezing) or
    ``Rgate(z_i)`` applied after a fixed ``Dgate(1, 0)`` (phase of a coherent state).

    Photon loss: ``loss`` is a fraction in [0, 1) for every mode or a sequence of one per
    mode; a mode with loss ``l > 0`` gets ``LossChannel(1 - l)`` (transmissivity ``T = 1 -
    l``: ``a -> sqrt(T) a + sqrt(1 - T) b_vacuum``) where ``loss_at`` says: ``measurement``
    after the last layer (before the readout), ``layers`` after each layer's gates, ``both``
    after each layer and once more before the readout (so the last layer is followed by
    two). Loss 0 on every mode adds no operation: the program is exactly the lossless one.
    """
    check_choice(encoding, "encoding", ENCODINGS)
    check_choice(loss_at, "loss_at", LOSS_AT)
    losses = mode_losses(loss, n_modes)
    prog = sf.Program(n_modes)
    latent = tuple(f"z{i}" for i in range(latent_dim))
    names: list[str] = []
    kinds: list[str] = []
    labels: list[str] = []
    gates: list[str] = []

    def param(name: str, kind: str, label: str, gate: str):
        names.append(name)
        kinds.append(kind)
        labels.append(label)
        gates.append(gate)
        return prog.params(name)

    def interferometer(tag: str, label: str, q) -> None:
        # Clements rectangular mesh: n_modes columns of nearest-neighbour beamsplitters
        # (none for one mode, where the interferometer is the single rotation, as in
        # Killoran et al.'s one-mode layer R S R D K).
        k = 0
        for col in range(n_modes):
            for i in range(col % 2, n_modes - 1, 2):
                theta = param(
                    f"{tag}_bs{col}_{i}_theta", "bs_theta", f"{label}.BS{k}.theta", "BSgate"
                )
                phi = param(f"{tag}_bs{col}_{i}_phi", "bs_phi", f"{label}.BS{k}.phi", "BSgate")
                ops.BSgate(theta, phi) | (q[i], q[i + 1])
                k += 1
        for i in range(n_modes):
            ops.Rgate(param(f"{tag}_r{i}", "r_phi", f"{label}.R{i}.phi", "Rgate")) | q[i]

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
            tag = f"layer{layer}"
            interferometer(f"l{layer}_u1", f"{tag}.interferometer1", q)
            for i in range(n_modes):
                r = param(f"l{layer}_s{i}_r", "s_r", f"{tag}.squeezers.S{i}.r", "Sgate")
                phi = param(f"l{layer}_s{i}_phi", "s_phi", f"{tag}.squeezers.S{i}.phi", "Sgate")
                ops.Sgate(r, phi) | q[i]
            interferometer(f"l{layer}_u2", f"{tag}.interferometer2", q)
            for i in range(n_modes):
                r = param(f"l{layer}_d{i}_r", "d_r", f"{tag}.displacements.D{i}.r", "Dgate")
                phi = param(f"l{layer}_d{i}_phi", "d_phi", f"{tag}.displacements.D{i}.phi", "Dgate")
                ops.Dgate(r, phi) | q[i]
            if final_kerr or layer < n_layers - 1:
                for i in range(n_modes):
                    kappa = param(f"l{layer}_k{i}", "k", f"{tag}.kerr.K{i}.kappa", "Kgate")
                    ops.Kgate(kappa) | q[i]
            if loss_at in ("layers", "both"):
                _lossy(losses, q)
        if loss_at in ("measurement", "both"):
            _lossy(losses, q)
    return GeneratorCircuit(
        program=prog,
        latent_names=latent,
        weight_names=tuple(names),
        weight_kinds=tuple(kinds),
        weight_labels=tuple(labels),
        weight_gates=tuple(gates),
        n_modes=n_modes,
        n_layers=n_layers,
        encoding=encoding,
    )


def mode_losses(loss, n_modes: int) -> tuple[float, ...]:
    """Per-mode photon-loss fractions from one number or a sequence of ``n_modes``: each a
    float in [0, 1) (``ValueError`` naming ``loss`` otherwise)."""
    values = [loss] * n_modes if isinstance(loss, (int, float)) else list(loss)
    if len(values) != n_modes or any(
        isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1 for v in values
    ):
        raise ValueError(
            f"loss must be a number in [0, 1) or a list of {n_modes} such numbers (one per "
            f"mode), got {loss!r}"
        )
    return tuple(float(v) for v in values)


def _lossy(losses: tuple[float, ...], q) -> None:
    """``LossChannel(1 - loss)`` on every mode whose loss is not 0."""
    for i, loss in enumerate(losses):
        if loss > 0:
            ops.LossChannel(1.0 - loss) | q[i]
