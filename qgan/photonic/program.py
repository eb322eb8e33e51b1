"""Adapter from a Strawberry Fields ``Program`` to a flat, validated instruction list.

This is the only module that looks inside SF programs. The operations SF's ``"fock"``
compiler decomposes (``Interferometer``, ``Pgate``, ``CXgate``, ``CZgate``, ``Xgate``,
``Zgate``) are decomposed exactly as that compiler does (``op.decompose`` with its
options), so they act as on SF's Fock backends; then every command becomes an
:class:`Instruction` whose parameters are constants, free-parameter names, or symbolic
expressions (evaluated in-graph with TensorFlow through ``sympy.lambdify``).

Channels (``LossChannel``, ``ThermalLossChannel``) and the mixed preparation ``Thermal``
make the state mixed (:attr:`Circuit.is_mixed`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import strawberryfields as sf
import sympy
from strawberryfields.compilers.fock import Fock
from strawberryfields.parameters import FreeParameter, MeasuredParameter

PURE_PREPARATIONS = ("Vacuum", "Fock", "Coherent", "Squeezed", "Catstate", "DisplacedSqueezed")
MIXED_PREPARATIONS = ("Thermal",)
PREPARATIONS = PURE_PREPARATIONS + MIXED_PREPARATIONS
SINGLE_MODE_GATES = ("Dgate", "Sgate", "Rgate", "Kgate", "Vgate")
TWO_MODE_GATES = ("BSgate", "MZgate", "S2gate", "CKgate")
CHANNELS = ("LossChannel", "ThermalLossChannel")
DECOMPOSED = ("Interferometer", "Pgate", "CXgate", "CZgate", "Xgate", "Zgate")
#: every SF operation the engine accepts (decomposed ones included)
SUPPORTED_OPERATIONS = PREPARATIONS + SINGLE_MODE_GATES + TWO_MODE_GATES + CHANNELS + DECOMPOSED
#: common SF operations that are still refused (with the one-line error)
UNSUPPORTED_OPERATIONS = (
    "MeasureFock",
    "MeasureHomodyne",
    "MeasureHeterodyne",
    "MeasureX",
    "MeasureP",
    "GKP",
    "Ket",
    "DensityMatrix",
    "Gaussian",
    "Ggate",
    "Fouriergate",
    "GaussianTransform",
    "GraphEmbed",
    "BipartiteGraphEmbed",
    "MSgate",
    "sMZgate",
)
_NUMERIC_PARAMS = {"Catstate": 3}  # Catstate's other parameters are bosonic-backend options


@dataclass(frozen=True)
class Parameter:
    """One gate argument: a constant, a free parameter, or an expression of free ones.

    ``value`` is a float (constant), a str (free-parameter name) or a sympy expression;
    ``names`` lists the free parameters it depends on, in a fixed order.
    """

    value: Any
    names: tuple[str, ...] = ()

    @property
    def is_constant(self) -> bool:
        return not self.names


@dataclass(frozen=True)
class Instruction:
    """A supported operation applied to ``modes`` with its ``params`` in SF's order."""

    name: str
    modes: tuple[int, ...]
    params: tuple[Parameter, ...]


@dataclass(frozen=True)
class Circuit:
    """A validated program: mode count, instructions in program order, free parameter names."""

    n_modes: int
    instructions: tuple[Instruction, ...]
    free_params: tuple[str, ...]

    @property
    def is_mixed(self) -> bool:
        """Whether the circuit has a channel or a mixed preparation (its state is a density
        matrix)."""
        return any(i.name in CHANNELS + MIXED_PREPARATIONS for i in self.instructions)


def _supported_list() -> str:
    return ", ".join(SUPPORTED_OPERATIONS)


def _parameter(p: Any, op_name: str) -> Parameter:
    if isinstance(p, MeasuredParameter) or (
        isinstance(p, sympy.Basic) and p.atoms(MeasuredParameter)
    ):
        raise ValueError(
            f"{op_name}: measured parameters (measurement feed-forward) are not supported"
        )
    if isinstance(p, FreeParameter):
        return Parameter(p.name, (p.name,))
    if isinstance(p, sympy.Basic):
        atoms = sorted(p.atoms(FreeParameter), key=lambda a: a.name)
        if not atoms:
            return Parameter(float(p))
        return Parameter(p, tuple(a.name for a in atoms))
    if isinstance(p, numbers.Real) or (isinstance(p, np.ndarray) and p.ndim == 0):
        return Parameter(float(p))
    raise ValueError(
        f"{op_name}: parameter {p!r} must be a real number or a free parameter "
        "(prog.params); per-sample values are passed through simulate(args=...)"
    )


def parse_program(prog: Any) -> Circuit:
    """Validate ``prog`` and return its :class:`Circuit`.

    Raises:
        ValueError: ``prog`` is not an SF Program, uses an unsupported operation (the
            message names it and lists the supported ones), prepares a mode after a gate
            acted on it, or has a non-numeric constant parameter.
    """
    if not isinstance(prog, sf.Program):
        raise ValueError(f"prog must be a strawberryfields.Program, got {type(prog).__name__}")
    if prog.num_subsystems < 1:
        raise ValueError("prog must have at least one mode")
    for cmd in prog.circuit:
        name = type(cmd.op).__name__
        if name not in SUPPORTED_OPERATIONS:
            raise ValueError(
                f"operation {name} is not supported by qgan.photonic; supported: "
                f"{_supported_list()}"
            )
    touched: set[int] = set()
    instructions = []
    for cmd in _decomposed(prog.circuit):
        name = type(cmd.op).__name__
        if name not in SUPPORTED_OPERATIONS:  # produced by SF's decomposition
            raise ValueError(
                f"operation {name} (from SF's decomposition) is not supported by "
                f"qgan.photonic; supported: {_supported_list()}"
            )
        modes = tuple(r.ind for r in cmd.reg)
        if name in PREPARATIONS:
            if modes[0] in touched:
                raise ValueError(
                    f"{name} prepares mode {modes[0]} after a gate or channel acted on it; "
                    "the compiled engine needs preparations before gates and channels"
                )
        else:
            touched.update(modes)
        numeric = cmd.op.p[: _NUMERIC_PARAMS.get(name, len(cmd.op.p))]
        params = tuple(_parameter(p, name) for p in numeric)
        _check_constants(name, params)
        if name == "Fock":
            if not params[0].is_constant or float(params[0].value) != int(params[0].value):
                raise ValueError("Fock: the photon number must be a constant integer")
        instructions.append(Instruction(name, modes, params))
    return Circuit(prog.num_subsystems, tuple(instructions), tuple(sorted(prog.free_params)))


def _decomposed(commands) -> list:
    """``commands`` with the operations in :data:`DECOMPOSED` replaced by SF's ``"fock"``
    compiler's decomposition of them (recursively, with that compiler's options); the
    compiler itself is not used because it refuses ``ThermalLossChannel``."""
    out = []
    for cmd in commands:
        name = type(cmd.op).__name__
        if name in DECOMPOSED:
            options = Fock.decompositions.get(name, {})
            out.extend(_decomposed(cmd.op.decompose(cmd.reg, **options)))
        else:
            out.append(cmd)
    return out


_CONSTANT_RANGES = {
    ("LossChannel", 0): ("T", 0.0, 1.0),
    ("ThermalLossChannel", 0): ("T", 0.0, 1.0),
    ("ThermalLossChannel", 1): ("nbar", 0.0, None),
    ("Thermal", 0): ("nbar", 0.0, None),
}


def _check_constants(name: str, params: tuple[Parameter, ...]) -> None:
    """Constant channel / thermal arguments must lie in their physical range."""
    for k, p in enumerate(params):
        spec = _CONSTANT_RANGES.get((name, k))
        if spec is None or not p.is_constant:
            continue
        field, low, high = spec
        value = float(p.value)
        if value < low or (high is not None and value > high):
            bound = f"[{low}, {high}]" if high is not None else f">= {low}"
            raise ValueError(f"{name}: {field} must be in {bound}, got {value}")
