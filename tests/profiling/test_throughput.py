"""Specification: the circuit's counted work and the share of the machine's measured peak
(``qgan.profiling.throughput``).

The flop count follows the documented rule (8 real flops per complex multiply-add, 6 per
complex multiplication) over the matrix products the compiled engine performs: checked
against a hand count on tiny circuits, and against the matrix products in the engine's
own traced graph. Throughputs are derived from the injected clock.
"""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from strawberryfields import ops

from qgan.gan.model import build_generator
from qgan.generator.circuit import cv_layer_program
from qgan.photonic import engine
from qgan.photonic.plan import PlannerOptions, plan
from qgan.photonic.program import parse_program
from qgan.profiling.throughput import circuit_flops, count_plan, efficiency, matmul_gflops

PLANNER = [
    PlannerOptions(),
    PlannerOptions(fuse=False),
    PlannerOptions(factor=False),
    PlannerOptions(fuse=False, factor=False),
]
PLANNER_IDS = ["fused-factored", "unfused", "unfactored", "unfused-unfactored"]

MATMUL_OPS = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")


def _tiny_program():
    """2 modes: per-sample Dgate on mode 0; Sgate, BSgate, Kgate shared by the batch."""
    prog = sf.Program(2)
    z, theta, kappa = prog.params("z", "theta", "kappa")
    with prog.context as q:
        ops.Dgate(z) | q[0]
        ops.Sgate(0.1) | q[1]
        ops.BSgate(theta, 0.2) | (q[0], q[1])
        ops.Kgate(kappa) | q[1]
    return prog


def _beamsplitter_program():
    prog = sf.Program(2)
    with prog.context as q:
        ops.BSgate(0.3, 0.1) | (q[0], q[1])
    return prog


def _shuffled_program():
    """3 modes, gates on non-adjacent and reversed pairs: the engine reorders factors."""
    prog = sf.Program(3)
    z, theta = prog.params("z", "theta")
    with prog.context as q:
        ops.Dgate(z) | q[1]
        ops.BSgate(theta, 0.1) | (q[2], q[0])
        ops.S2gate(0.1, 0.2) | (q[2], q[1])
        ops.Kgate(0.3) | q[0]
        ops.CKgate(0.05) | (q[1], q[0])
        ops.Rgate(z) | q[2]
    return prog


def test_hand_count_of_a_tiny_circuit():
    """D = 3, B = 4. The plan: block A = [Dgate(z)] on mode 0 (per-sample); block B =
    [Sgate, BSgate, Kgate] on modes (0, 1) (shared; the Sgate moves into it, the per-sample
    Dgate cannot).

    Composition of B: Kronecker I (x) S (D^4 muls), BS . (I (x) S) (D^6 MACs), Kronecker
    I (x) K (D^4 muls), (I (x) K) . rest (D^6 MACs); A is a single gate (no product).
    State: A on mode 0's factor, 1 sample -> 4 samples: B D D MACs; B joins the two
    factors (B D^2 muls) and is applied to the joined factor: B D^2 D^2 MACs.
    """
    d, b = 3, 4
    count = circuit_flops(_tiny_program(), d, b, per_sample=["z"])
    assert count.block_composition == 8 * (2 * d**6) + 6 * (2 * d**4)
    assert count.state_application == 8 * (b * d * d + b * d**2 * d**2) + 6 * (b * d**2)
    assert count.complex_macs == 2 * d**6 + b * d * d + b * d**4
    assert count.complex_muls == 2 * d**4 + b * d**2
    assert count.matmuls == 4
    assert count.total == count.block_composition + count.state_application


def test_hand_count_of_one_beamsplitter():
    """A lone shared BSgate: nothing to compose; the vacuum factors are joined (D^2 muls,
    one sample) and the gate applied once (D^2 D^2 MACs), whatever the batch."""
    d = 5
    for batch in (1, 7):
        count = circuit_flops(_beamsplitter_program(), d, batch)
        assert (count.block_composition, count.state_application) == (0, 6 * d**2 + 8 * d**4)


def _trace(prog, cutoff, batch, per_sample, options=None):
    """The engine's compiled circuit for ``prog`` and its traced graph at this signature."""
    compiled = engine.compiled_circuit(prog, parse_program, cutoff, tf.complex64, options)
    values = tuple(
        tf.zeros([batch] if name in per_sample else [], tf.float32)
        for name in compiled.circuit.free_params
    )
    return compiled, compiled._function.get_concrete_function(values, batch).graph


def _graph_macs(prog, cutoff, batch, per_sample, options=None):
    """Complex multiply-adds and number of matrix products in the engine's traced graph."""
    _, graph = _trace(prog, cutoff, batch, per_sample, options)
    macs = products = 0
    for op in graph.get_operations():
        if op.type not in MATMUL_OPS:
            continue
        assert op.outputs[0].dtype == tf.complex64
        a = op.inputs[0].shape
        if op.type == "MatMul":
            k = a[-2] if op.get_attr("transpose_a") else a[-1]
        else:
            k = a[-2] if op.get_attr("adj_x") else a[-1]
        macs += int(np.prod(op.outputs[0].shape.as_list())) * k
        products += 1
    return macs, products


@pytest.mark.parametrize(
    "make, cutoff, batch",
    [
        (lambda: (_tiny_program(), ["z"]), 3, 4),
        (lambda: (_shuffled_program(), ["z"]), 3, 5),
        (lambda: (_shuffled_program(), []), 2, 3),
        (lambda: _generator_program(2, 1, "displacement"), 3, 4),
        (lambda: _generator_program(4, 2, "phase"), 2, 3),
    ],
    ids=["tiny", "shuffled", "shuffled-shared", "generator-2x1", "generator-4x2-phase"],
)
@pytest.mark.parametrize("options", PLANNER, ids=PLANNER_IDS)
def test_count_matches_the_matrix_products_of_the_engines_graph(make, cutoff, batch, options):
    prog, per_sample = make()
    count = circuit_flops(prog, cutoff, batch, per_sample, options)
    graph = _graph_macs(prog, cutoff, batch, per_sample, options)
    assert (count.complex_macs, count.matmuls) == graph


@pytest.mark.parametrize("options", PLANNER, ids=PLANNER_IDS)
def test_the_counted_plan_is_the_one_the_engine_executed(options):
    """The engine keeps the plan it traced; the public planner gives the same plan, and
    counting either gives the same numbers."""
    prog, per_sample = _generator_program(2, 1, "displacement")
    compiled, _ = _trace(prog, 3, 4, per_sample, options)
    (executed,) = compiled.plans.values()
    assert executed == plan(prog, per_sample, options)
    assert count_plan(executed, 3, 4) == circuit_flops(prog, 3, 4, per_sample, options)


def test_fusion_and_factoring_change_the_work():
    """On the tiny circuit: without fusion there are more (smaller) state passes and no
    compositions; without factoring the state starts joined (more work per pass)."""
    prog = _tiny_program()
    fused = circuit_flops(prog, 3, 4, ["z"])
    unfused = circuit_flops(prog, 3, 4, ["z"], PlannerOptions(fuse=False))
    unfactored = circuit_flops(prog, 3, 4, ["z"], PlannerOptions(factor=False))
    assert unfused.block_composition == 0 and fused.block_composition > 0
    assert unfused.matmuls == 4 and unfused.state_application > fused.state_application
    assert unfactored.state_application > fused.state_application


def _generator_program(n_modes, n_layers, encoding):
    circuit = cv_layer_program(n_modes, n_layers, n_modes, encoding)
    return circuit.program, list(circuit.latent_names)


@given(
    n_modes=st.integers(1, 3),
    n_layers=st.integers(0, 2),
    cutoff=st.integers(2, 4),
    batch=st.integers(2, 64),
    encoding=st.sampled_from(["displacement", "squeezing", "phase"]),
)
def test_state_work_grows_linearly_with_the_batch_when_every_mode_is_encoded(
    n_modes, n_layers, cutoff, batch, encoding
):
    """Every mode starts with a per-sample gate, so every state operation is per-sample;
    the composition of shared blocks does not depend on the batch."""
    prog, per_sample = _generator_program(n_modes, n_layers, encoding)
    one = circuit_flops(prog, cutoff, 1, per_sample)
    many = circuit_flops(prog, cutoff, batch, per_sample)
    assert many.state_application == batch * one.state_application
    shared = circuit_flops(prog, cutoff, batch, [])
    assert shared.total == circuit_flops(prog, cutoff, 1, []).total


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="^per_sample names"):
        circuit_flops(_tiny_program(), 3, 4, per_sample=["nope"])
    with pytest.raises(ValueError, match="^cutoff must be an int >= 2"):
        circuit_flops(_tiny_program(), 1, 4)
    with pytest.raises(ValueError, match="^batch must be an int >= 1"):
        circuit_flops(_tiny_program(), 3, 0)


@pytest.mark.parametrize(
    "shape_a, shape_b, chain, macs",
    [
        ([2, 3], [3, 5], 1, 2 * 5 * 3),
        ([1, 3, 3], [4, 3, 2], 1, 4 * 3 * 2 * 3),
        ([6, 4], [4, 4], 5, 5 * 6 * 4 * 4),  # the state is a: a <- a b, five times
        ([1, 3, 3], [4, 3, 2], 2, 2 * 4 * 3 * 2 * 3),  # the state is b: b <- a b, twice
    ],
)
def test_matmul_throughput_is_counted_work_over_measured_time(
    shape_a, shape_b, chain, macs, scripted_clock
):
    clock = scripted_clock([1.0, 0.002, 0.004, 0.003])
    result = matmul_gflops(
        shape_a, shape_b, tf.complex64, repeats=3, warmup=0, clock=clock, chain=chain
    )
    assert clock.used == 4 and result["chain"] == chain
    assert result["gflop"] == pytest.approx(8 * macs / 1e9)
    assert result["ms"] == pytest.approx(3.0)
    assert result["gflops"] == pytest.approx(8 * macs / 0.003 / 1e9)


def test_a_product_that_does_not_keep_a_shape_cannot_be_chained():
    with pytest.raises(ValueError, match="^chain: "):
        matmul_gflops([2, 3], [3, 5], tf.complex64, repeats=1, warmup=0, chain=2)


def test_efficiency_is_derived_from_the_count_and_the_clock(tiny_config, scripted_clock):
    cfg = tiny_config(**{"train.batch_size": 4})
    repeats, sizes = 2, (16, 32)
    # per measurement: first call, then `repeats` timed calls; in order: the two engine
    # shapes, the large sizes, the circuit step, the forward + backward step
    blocks = [[1.0, 0.001 * (i + 1), 0.003 * (i + 1)] for i in range(2 + len(sizes) + 2)]
    clock = scripted_clock([t for block in blocks for t in block])
    result = efficiency(cfg, 4, repeats, warmup=0, large_sizes=sizes, clock=clock)
    assert clock.used == len(blocks) * (1 + repeats)
    medians = [np.median(block[1:]) for block in blocks]

    mm = result["matmul_gflops"]
    # the engine's two-mode gate applications at D = 3, M = 2, B = 4, chained 16 times
    for row, median in zip(mm["engine_shapes"], medians[:2], strict=True):
        assert row["chain"] == 16
        assert row["gflops"] == pytest.approx(16 * 8 * 4 * 9 * 9 / median / 1e9)
    for row, n, median in zip(mm["large"], sizes, medians[2:4], strict=True):
        assert row["gflops"] == pytest.approx(8 * n**3 / median / 1e9)
    assert mm["peak"] == pytest.approx(max(r["gflops"] for r in mm["large"]))
    assert mm["engine_shape_peak"] == pytest.approx(max(r["gflops"] for r in mm["engine_shapes"]))

    gen = build_generator(cfg)
    count = circuit_flops(gen.program, gen.cutoff, 4, gen.circuit.latent_names)
    gflop = count.total / 1e9
    assert result["circuit_gflop_per_step"] == pytest.approx(gflop)
    assert result["flops"]["total"] == count.total
    assert result["circuit_step_ms"] == pytest.approx(medians[4] * 1e3)
    assert result["circuit_step_first_call_s"] == pytest.approx(1.0)
    assert result["achieved_gflops"] == pytest.approx(gflop / medians[4])
    assert result["share_of_peak"] == pytest.approx(gflop / medians[4] / mm["peak"])
    assert result["share_of_engine_shape_peak"] == pytest.approx(
        gflop / medians[4] / mm["engine_shape_peak"]
    )
    fb = result["fwd_bwd"]
    assert fb["gflop_per_step"] == pytest.approx(3 * gflop)
    assert fb["step_ms"] == pytest.approx(medians[5] * 1e3)
    assert fb["achieved_gflops"] == pytest.approx(3 * gflop / medians[5])
    assert fb["share_of_peak"] == pytest.approx(3 * gflop / medians[5] / mm["peak"])
    assert "8 real flops per complex multiply-add" in result["counting_rule"]


def test_efficiency_measures_real_throughput(tiny_config):
    cfg = tiny_config(**{"train.batch_size": 4})
    result = efficiency(cfg, 4, 2, warmup=1, large_sizes=(64,))
    assert result["matmul_gflops"]["peak"] > 0 and result["achieved_gflops"] > 0
    assert result["circuit_step_ms"] > 0 and result["share_of_peak"] > 0
