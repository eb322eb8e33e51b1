"""How much of the machine's measured matrix-multiply throughput the circuit step reaches.

Counting rule (:func:`circuit_flops`): the floating-point work of one forward simulation
is counted from the matrix products the compiled engine performs: the steps of the plan
the engine itself executes (:func:`qgan.photonic.plan.plan`: its state schedule and each
block's composition), not a second walk over the program:

* a complex multiply-add is 8 real flops (4 multiplications, 4 additions), a complex
  multiplication 6;
* **state application**: a block matrix ``[D^w, D^w]`` applied to the factor of the state
  that holds its modes (``k`` modes, ``b`` samples: 1 until a per-sample gate or factor
  reaches it, else B) costs ``b * D^k * D^w`` multiply-adds; joining two factors of the
  (product) state, when a two-mode block first couples them or at the end, costs one
  complex multiplication per amplitude of the joined factor;
* **block composition**: multiplying a block's gate matrices together (``D^3`` per product
  of single-mode matrices, ``D^6`` per product of two-mode matrices, times B if either is
  per-sample) plus the Kronecker products that lift single-mode matrices to two modes
  (``D^4`` complex multiplications, times B if per-sample).

Not counted: building gate matrices from their arguments (recurrences, elementwise), and
reshapes, transposes and the final broadcast (no arithmetic). The forward+gradient count
uses the usual rule that the backward pass of a matrix product costs two products of the
same size, so it is 3x the forward count: an estimate, since TensorFlow skips gradients
nobody needs.

Peak: the throughput of TensorFlow's complex matmul measured on this machine, at the
shapes the engine's two-mode gate applications have (chained in one compiled call, as the
engine applies them: a lone small product measures the cost of calling a graph, which on
a busy machine is milliseconds) and at large square sizes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import tensorflow as tf

from qgan._validate import check_int
from qgan.gan.config import RunConfig
from qgan.gan.model import build_generator
from qgan.photonic.plan import Block, Plan, PlannerOptions, plan
from qgan.profiling.scaling import circuit_settings, profile_inputs
from qgan.profiling.timing import Clock, measure

log = logging.getLogger(__name__)

FLOPS_PER_COMPLEX_MAC = 8
FLOPS_PER_COMPLEX_MUL = 6
BACKWARD_FACTOR = 2  # backward of C = A B: dA = dC B^H and dB = A^H dC, each a product of C's size
COUNTING_RULE = (
    "matrix products the compiled engine performs (block compositions and state "
    "applications, by its execution plan), 8 real flops per complex multiply-add and 6 per "
    "complex multiplication (Kronecker and factor outer products); gate-matrix construction "
    "not counted; forward+gradient = 3x forward (backward of a product = two products)"
)


@dataclass(frozen=True)
class FlopCount:
    """Floating-point work of one forward simulation, split by kind (real flops)."""

    state_application: int
    block_composition: int
    complex_macs: int  # multiply-adds of all matrix products (8 flops each)
    complex_muls: int  # elementwise complex multiplications (6 flops each)
    matmuls: int  # number of matrix products

    @property
    def total(self) -> int:
        return self.state_application + self.block_composition


def circuit_flops(
    prog, cutoff: int, batch: int, per_sample=(), options: PlannerOptions | None = None
) -> FlopCount:
    """Count the flops of simulating ``prog`` at ``cutoff`` for ``batch`` samples.

    ``per_sample``: names of the free parameters that take one value per sample (shape
    [B]); every other argument is shared by the batch. ``options``: the planner's (default:
    the engine's). See the module docstring for the counting rule.
    """
    cutoff = check_int(cutoff, "cutoff", 2)
    batch = check_int(batch, "batch", 1)
    return count_plan(plan(prog, per_sample, options), cutoff, batch)


def count_plan(schedule: Plan, cutoff: int, batch: int) -> FlopCount:
    """Count the flops of the steps of ``schedule`` (a :class:`~qgan.photonic.plan.Plan`)
    at ``cutoff`` for ``batch`` samples."""
    d = cutoff
    counter = _Counter()
    for step in schedule.state:
        samples = batch if step.batched else 1
        size = samples * d ** len(step.modes)  # amplitudes of the factor after the step
        if step.kind == "join":  # outer product: one complex multiplication per amplitude
            counter.state_muls += size
            continue
        block = schedule.blocks[step.block]
        _compose(block, schedule.batched, d, batch, counter)
        counter.state_macs += size * d ** len(block.modes)
        counter.matmuls += 1
    return FlopCount(
        state_application=FLOPS_PER_COMPLEX_MAC * counter.state_macs
        + FLOPS_PER_COMPLEX_MUL * counter.state_muls,
        block_composition=FLOPS_PER_COMPLEX_MAC * counter.compose_macs
        + FLOPS_PER_COMPLEX_MUL * counter.compose_muls,
        complex_macs=counter.state_macs + counter.compose_macs,
        complex_muls=counter.state_muls + counter.compose_muls,
        matmuls=counter.matmuls,
    )


@dataclass
class _Counter:
    state_macs: int = 0
    state_muls: int = 0
    compose_macs: int = 0
    compose_muls: int = 0
    matmuls: int = 0


def _compose(block: Block, batched, d: int, batch: int, counter: _Counter) -> None:
    """Count composing ``block``'s matrix by its ``ops`` (products of D x D single-mode
    matrices, Kronecker lifts of D^4 complex multiplications, products of D^2 x D^2
    matrices), each B times where an operand is per-sample."""
    pending: dict[int, int] = {}  # mode -> sample width of its pending single-mode product
    total = None  # sample width of the running product, None before the first factor

    def product(a: int, b: int, size: int) -> int:
        counter.compose_macs += max(a, b) * size**3
        counter.matmuls += 1
        return max(a, b)

    for op in block.ops:
        if op.kind == "single":
            b = batch if batched[op.index] else 1
            pending[op.mode] = b if op.mode not in pending else product(b, pending[op.mode], d)
            continue
        if op.kind == "flush":
            factor = max(pending.pop(m, 1) for m in block.modes)
            if len(block.modes) == 2:
                counter.compose_muls += factor * d**4  # Kronecker product
        else:  # "pair"
            factor = batch if batched[op.index] else 1
        width = d ** len(block.modes)
        total = factor if total is None else product(factor, total, width)


# ----------------------------------------------------------------------------- throughput


def matmul_gflops(
    shape_a, shape_b, dtype, repeats: int, warmup: int, clock=None, chain: int = 1
) -> dict:
    """Measured throughput of ``tf.linalg.matmul`` on random complex operands of these
    shapes (batch dimensions broadcast), compiled; 8 flops per complex multiply-add.

    ``chain`` > 1 applies the product ``chain`` times in one compiled call, each to the
    previous result (which must have the shape of ``shape_a`` or of ``shape_b``; the other
    operand is a random unitary), as the engine applies gate after gate to the state: a
    lone small product would measure the cost of calling a graph, not of multiplying.
    """
    shape_a, shape_b = list(shape_a), list(shape_b)
    chain = check_int(chain, "chain", 1)
    rdt = tf.float32 if tf.as_dtype(dtype) == tf.complex64 else tf.float64
    rng = tf.random.Generator.from_seed(0)

    def operand(shape):
        return tf.complex(rng.normal(shape, dtype=rdt), rng.normal(shape, dtype=rdt))

    out_shape = tf.broadcast_static_shape(
        tf.TensorShape(shape_a[:-2]), tf.TensorShape(shape_b[:-2])
    ).as_list() + [shape_a[-2], shape_b[-1]]
    if chain > 1 and out_shape not in (shape_a, shape_b):
        raise ValueError(f"chain: a product {shape_a} x {shape_b} -> {out_shape} cannot be chained")
    state_is_a = out_shape == shape_a
    a, b = operand(shape_a), operand(shape_b)
    if chain > 1:  # a unitary operator keeps the chained state's norm (no overflow)
        unitary = tf.linalg.qr(b if state_is_a else a)[0]
        a, b = (a, unitary) if state_is_a else (unitary, b)

    product = tf.function(_chain_function(chain, state_is_a), autograph=False)
    macs = _prod(out_shape) * shape_a[-1] * chain
    timing = measure(lambda: product(a, b), repeats, warmup, clock)
    return {
        "shape": f"{shape_a} x {shape_b}",
        "chain": chain,
        "gflop": FLOPS_PER_COMPLEX_MAC * macs / 1e9,
        "ms": timing.median_s * 1e3,
        "gflops": FLOPS_PER_COMPLEX_MAC * macs / timing.median_s / 1e9,
    }


def _chain_function(chain: int, state_is_a: bool):
    """``(a, b) ->`` one element of ``a b`` applied ``chain`` times to the state operand
    (``a`` if ``state_is_a``, else ``b``); reading one element waits for every product
    without copying the result to the host."""

    def run(a, b):
        for _ in range(chain):
            if state_is_a:
                a = tf.linalg.matmul(a, b)
            else:
                b = tf.linalg.matmul(a, b)
        return (a if state_is_a else b)[..., :1, :1]

    return run


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out


def efficiency(
    cfg: RunConfig,
    batch: int | None = None,
    repeats: int = 10,
    *,
    warmup: int = 2,
    large_sizes=(512, 1024),
    engine_chain: int = 16,
    clock: Clock | None = None,
) -> dict:
    """Achieved flop rate of the compiled circuit step against the machine's measured peak.

    ``batch`` defaults to ``train.batch_size``. The circuit step is one forward simulation
    of the generator's circuit (latent batch -> ket ``[B, D, ..., D]``) on the compiled
    engine; ``fwd_bwd`` repeats the figures for forward + gradient of ``sum(Re ket)``
    w.r.t. the weights (flops by the 3x rule).

    Returns ``matmul_gflops`` (``engine_shapes``: the engine's two-mode gate applications
    as matmuls at this batch and cutoff, ``engine_chain`` of them chained in one compiled
    call as the engine applies them; ``large``: square ``n x n`` products;
    ``peak``: the best large one; ``engine_shape_peak``: the best engine-shape one),
    ``circuit_gflop_per_step`` (with ``flops``, the split by
    kind, and ``counting_rule``), ``circuit_step_ms`` (median), ``achieved_gflops``,
    ``share_of_peak`` (achieved / peak) and ``share_of_engine_shape_peak`` (achieved / the
    best engine-shape matmul).
    """
    batch, repeats, warmup = circuit_settings(cfg, "efficiency", batch, repeats, warmup)
    sizes = [check_int(n, "large_sizes", 1) for n in large_sizes]
    chain = check_int(engine_chain, "engine_chain", 1)
    if not sizes:
        raise ValueError("large_sizes must not be empty")
    gen = build_generator(cfg)
    dtype = gen.complex_dtype
    d, m = gen.cutoff, gen.n_modes

    log.info("matmul throughput (%s)", dtype.name)
    w = 2 if m >= 2 else 1
    rest = d ** (m - w)
    engine_shapes = [
        # gate on the last modes: [B * D^(M-w), D^w] x [D^w, D^w]
        matmul_gflops([batch * rest, d**w], [d**w, d**w], dtype, repeats, warmup, clock, chain),
        # gate on the first modes: [D^w, D^w] x [B, D^w, D^(M-w)]
        matmul_gflops([1, d**w, d**w], [batch, d**w, rest], dtype, repeats, warmup, clock, chain),
    ]
    large = [matmul_gflops([n, n], [n, n], dtype, repeats, warmup, clock) for n in sizes]
    peak = max(r["gflops"] for r in large)
    engine_peak = max(r["gflops"] for r in engine_shapes)

    flops = circuit_flops(gen.program, d, batch, gen.circuit.latent_names)
    z, _ = profile_inputs(gen, batch, cfg.seed)
    variables = [gen.weights_vector]

    @tf.function(autograph=False)
    def forward(z):
        return gen.state(z).ket()

    @tf.function(autograph=False)
    def forward_backward(z):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.math.real(gen.state(z).ket()))
        return loss, tape.gradient(loss, variables)

    log.info("circuit step, batch %d", batch)
    step = measure(lambda: forward(z), repeats, warmup, clock)
    step_fb = measure(lambda: forward_backward(z), repeats, warmup, clock)
    gflop = flops.total / 1e9
    gflop_fb = gflop * (1 + BACKWARD_FACTOR)
    achieved = gflop / step.median_s
    achieved_fb = gflop_fb / step_fb.median_s
    return {
        "dtype": dtype.name,
        "batch": batch,
        "matmul_gflops": {
            "engine_shapes": engine_shapes,
            "large": large,
            "peak": peak,
            "engine_shape_peak": engine_peak,
        },
        "circuit_gflop_per_step": gflop,
        "flops": {
            "state_application": flops.state_application,
            "block_composition": flops.block_composition,
            "total": flops.total,
            "matmuls": flops.matmuls,
        },
        "counting_rule": COUNTING_RULE,
        "circuit_step_ms": step.median_s * 1e3,
        "circuit_step_first_call_s": step.first_call_s,
        "achieved_gflops": achieved,
        "share_of_peak": achieved / peak,
        "share_of_engine_shape_peak": achieved / engine_peak,
        "fwd_bwd": {
            "gflop_per_step": gflop_fb,
            "step_ms": step_fb.median_s * 1e3,
            "first_call_s": step_fb.first_call_s,
            "achieved_gflops": achieved_fb,
            "share_of_peak": achieved_fb / peak,
        },
    }


__all__ = [
    "COUNTING_RULE",
    "FlopCount",
    "circuit_flops",
    "count_plan",
    "efficiency",
    "matmul_gflops",
]
