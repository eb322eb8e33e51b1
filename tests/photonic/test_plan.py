"""Specification of the engine's planner (``qgan.photonic.plan``): which gates fuse into
which block, when the product state's factors are joined, and the options that turn fusion
and factoring off. That the engine executes these plans, and that they simulate SF's
semantics, is checked in tests/profiling/test_throughput.py (the traced graph's matrix
products) and tests/photonic/test_agreement.py (both options, against SF's fock backend).
"""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import pytest
import strawberryfields as sf
from strawberryfields import ops

from qgan.photonic.plan import PlannerOptions, plan


def _program():
    """3 modes: per-sample Dgate(z) on mode 0; shared Sgate on 1; BSgate(0, 1); Kgate on 1;
    a shared Rgate on mode 2, which nothing couples to the others."""
    prog = sf.Program(3)
    z, theta = prog.params("z", "theta")
    with prog.context as q:
        ops.Dgate(z) | q[0]
        ops.Sgate(0.1) | q[1]
        ops.BSgate(theta, 0.2) | (q[0], q[1])
        ops.Kgate(0.3) | q[1]
        ops.Rgate(0.4) | q[2]
    return prog


def test_fusion_folds_shared_gates_and_keeps_per_sample_ones_apart():
    p = plan(_program(), per_sample=["z"])
    assert [(b.modes, b.steps, b.kind) for b in p.blocks] == [
        ((0,), [0], "per-sample"),  # the Dgate(z) cannot join a shared block
        ((0, 1), [1, 2, 3], "fused unitary"),  # Sgate moves into the BSgate block; Kgate too
        ((2,), [4], "fused unitary"),
    ]
    kinds = [op.kind for op in p.blocks[1].ops]
    assert kinds == ["single", "flush", "pair", "single", "flush"]


def test_without_fusion_every_gate_is_its_own_block():
    p = plan(_program(), ["z"], PlannerOptions(fuse=False))
    assert [b.steps for b in p.blocks] == [[0], [1], [2], [3], [4]]
    assert [b.batched for b in p.blocks] == [True, False, False, False, False]


def test_factoring_joins_modes_when_a_block_first_couples_them():
    p = plan(_program(), ["z"])
    steps = [(s.kind, s.modes, s.batched) for s in p.state]
    assert steps == [
        ("apply", (0,), True),
        ("join", (0, 1), True),  # the BSgate block couples modes 0 and 1
        ("apply", (0, 1), True),
        ("apply", (2,), False),  # mode 2 stays a separate shared vector ...
        ("join", (2, 0, 1), True),  # ... until the final ket (axes put in mode order after)
    ]


def test_without_factoring_the_state_is_joined_before_the_first_block():
    p = plan(_program(), ["z"], PlannerOptions(factor=False))
    assert [(s.kind, s.modes) for s in p.state[:2]] == [("join", (0, 1)), ("join", (0, 1, 2))]
    assert all(s.kind == "apply" and s.modes == (0, 1, 2) for s in p.state[2:])
    assert [s.block for s in p.state[2:]] == [0, 1, 2]


def test_summary_gives_matrix_and_factor_sizes():
    rows = plan(_program(), ["z"]).summary(cutoff=4, batch_size=8)
    assert rows[0] == {
        "step": "apply",
        "modes": (0,),
        "amplitudes": 8 * 4,
        "kind": "per-sample",
        "matrix": 4,
        "gates": 1,
    }
    assert rows[2]["matrix"] == 16 and rows[2]["gates"] == 3
    assert rows[3]["amplitudes"] == 4  # the shared mode-2 vector: one for the batch


def test_unknown_per_sample_name_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"^per_sample names \['w'\]"):
        plan(_program(), ["w"])
