"""The compiled Fock engine: runs a :class:`~qgan.photonic.program.Circuit` in TensorFlow.

The whole simulation is one ``tf.function`` per (program, cutoff, dtype), traced once per
argument-shape signature (and once more for eager calls, whose gradient replays the state
schedule: see ``CompiledCircuit._replayed_ket``). Inside it:

1. gate arguments are evaluated from the free parameters (symbolic expressions in-graph);
2. all gates of one kind are built in one vectorised call (``qgan.photonic.gates``);
3. the plan (:func:`qgan.photonic.plan.make_plan`) is executed step by step: its blocks
   (at most two modes each) are composed from their gates as the plan's ``ComposeOp`` list
   says, and its state schedule joins factors of the product state (modes no multi-mode
   gate has joined yet stay separate vectors, with factoring on) and applies each block as
   a matrix product on the axes it acts on, without transposing the state.

The plan of every traced signature is kept in ``CompiledCircuit.plans`` (keyed by which
instructions are per-sample), so what the engine ran can be compared with
:func:`qgan.photonic.plan.plan` and counted (:mod:`qgan.profiling.throughput`).

Internally every factor has a leading batch axis of size 1 (batch-independent) or B.

Mixed states (channels, ``Thermal``): the parsed circuit is first lowered
(:func:`qgan.photonic.plan.lower`). When every channel comes after the last gate on its
mode (e.g. loss before measurement) the engine runs the pure circuit without them and
returns the ket with one composed superoperator per lossy mode, which the readouts apply
to what they need ("terminal" channels: the cost of the pure path). Otherwise it runs the
density matrix as a ket over ``2 n`` modes through the same planner and kernels (bra-side
gates conjugated, channels as superoperators on a (ket, bra) pair): ``D^(2n)`` amplitudes
per sample.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass

import sympy
import tensorflow as tf

from qgan.photonic import gates
from qgan.photonic import plan as planner
from qgan.photonic.plan import (
    CONJ,
    DEFAULT_OPTIONS,
    Block,
    Plan,
    PlannerOptions,
    lower,
    make_plan,
)
from qgan.photonic.program import Circuit, Instruction, Parameter

_BUILDERS = {
    "Dgate": gates.displacement,
    "Sgate": gates.squeezing,
    "Rgate": gates.rotation,
    "Kgate": gates.kerr,
    "Vgate": gates.cubic_phase,
    "BSgate": gates.beamsplitter,
    "MZgate": gates.mzgate,
    "S2gate": gates.two_mode_squeezing,
    "CKgate": gates.cross_kerr,
    "LossChannel": gates.loss_channel,
    "ThermalLossChannel": gates.thermal_loss_channel,
    "ThermalState": gates.thermal_preparation,
}
_STATES = {
    "Coherent": gates.coherent_state,
    "Squeezed": gates.squeezed_state,
    "Catstate": gates.cat_state,
    "DisplacedSqueezed": gates.displaced_squeezed_state,
}

_trace_lock = threading.Lock()
_trace_count = 0


def trace_count() -> int:
    """How many times any compiled circuit has been traced (for retracing checks)."""
    return _trace_count


def _count_trace() -> None:
    global _trace_count
    with _trace_lock:
        _trace_count += 1


@dataclass
class _Setup:
    """What one trace of a compiled circuit works from: arguments per instruction
    (``parsed``), the plan, the lowered circuit it runs (``run``), gate matrices, initial
    factors, the batch size (int, tensor or None) and the layout choice."""

    plan: Plan
    run: Circuit
    parsed: list
    matrices: dict
    factors: list
    batch: object
    batch_last: bool


class CompiledCircuit:
    """A circuit bound to a cutoff and dtype, with its traced ``tf.function``.

    Call with a tuple of real tensors (one per free parameter, in ``circuit.free_params``
    order, each of shape [] or [B]) and the batch size (``None`` for no batch); returns
    the ket ``[B, D, ..., D]`` or ``[D, ..., D]`` (``kind`` ``"pure"``), the density
    matrix ``[B, D, ..., D]`` with ``2 n`` axes in SF's layout (``"dm"``), or the ket and
    a tuple of one superoperator ``[(B,) D, D, D, D]`` per mode of ``terminal_modes``
    (``"terminal"``; see :func:`qgan.photonic.plan.lower`).
    """

    def __init__(
        self,
        circuit: Circuit,
        cutoff: int,
        dtype: tf.DType,
        options: PlannerOptions = DEFAULT_OPTIONS,
    ):
        self.circuit = circuit
        self.lowered = lower(circuit)
        self.kind = self.lowered.kind
        self.terminal_modes = tuple(m for m, _ in self.lowered.terminal)
        #: terminal modes whose channels may lose trace at the cutoff (thermal loss)
        self.leaky_modes = tuple(
            m
            for m, indices in self.lowered.terminal
            if any(circuit.instructions[i].name != "LossChannel" for i in indices)
        )
        self.cutoff = cutoff
        self.options = options
        self.plans: dict[tuple[bool, ...], Plan] = {}
        self.dtype = tf.as_dtype(dtype)
        self.real_dtype = gates.real_dtype(self.dtype)
        self._expressions = {}
        for instr in circuit.instructions:
            for p in instr.params:
                if isinstance(p.value, sympy.Basic):
                    symbols = sorted(p.value.free_symbols, key=lambda s: s.name)
                    self._expressions[p] = sympy.lambdify(symbols, p.value, "tensorflow")
        # One trace per argument-shape signature: ranks decide which gates are per-sample,
        # so shapes must not be relaxed (reduce_retracing would erase them).
        self._function = tf.function(self._simulate, autograph=False)

    def __call__(self, values: tuple, batch_size: int | None) -> tf.Tensor:
        # Called eagerly, the ket's gradient replays the schedule (see _replayed_ket); inside
        # a caller's tf.function, plain autodiff (the forward's intermediates are at hand).
        replay = self.options.replay_gradient and tf.executing_eagerly()
        return self._function(values, batch_size, replay)

    # ----------------------------------------------------------------- traced body

    def _simulate(self, values: tuple, batch_size: int | None, replay: bool = False):
        """The traced body: the ket (and, for ``"terminal"``, its channels); with
        ``replay``, the ket's gradient is :meth:`_replayed_gradient`."""
        _count_trace()
        setup = None if replay else self._setup(values, batch_size)
        ket = self._replayed_ket(values, batch_size) if replay else self._ket(setup)
        if self.kind != "terminal":
            return ket
        if setup is None:  # the channels' arguments (its gate matrices go unused)
            setup = self._setup(values, batch_size)
        return ket, tuple(
            self._terminal_channel(ix, setup.parsed, setup.batch) for _, ix in self.lowered.terminal
        )

    def _ket(self, setup: _Setup, trail: list | None = None) -> tf.Tensor:
        """Run the state schedule from ``setup``'s factors. With ``trail`` (a list), the
        factors before each step and after the last are appended to it."""
        factors = setup.factors
        for step in setup.plan.state:
            if trail is not None:
                trail.append(factors)
            factors = self._state_step(setup, step, factors, self._step_matrix(setup, step))
        if trail is not None:
            trail.append(factors)
        return self._finish(setup, factors)

    def _setup(self, values: tuple, batch_size: int | None) -> _Setup:
        """Arguments, plan, gate matrices and initial factors of one trace."""
        named = dict(zip(self.circuit.free_params, values, strict=True))
        if batch_size is not None:
            batch = batch_size
        else:
            batch = next((tf.shape(v)[0] for v in values if v.shape.rank == 1), None)
        parsed = [
            [self._evaluate(p, named) for p in instr.params] for instr in self.circuit.instructions
        ]
        run = self.lowered.circuit
        params = [parsed[i] for i in self.lowered.sources]
        batched = [any(p.shape.rank == 1 for p in ps) for ps in params]
        plan = make_plan(run, batched, self.options)
        self.plans[tuple(batched)] = plan
        matrices = self._gate_matrices(run, params, batched, batch)
        factors = self._initial_factors(run, plan, params, batched)
        # 1 without a batch; None when the batch size is only known at run time
        static_batch = (
            batch_size
            if batch_size is not None
            else next((v.shape[0] for v in values if v.shape.rank == 1), 1)
        )
        batch_last = self.options.batch_last and _batch_last_pays(
            plan, run.n_modes, self.cutoff, static_batch
        )
        return _Setup(plan, run, parsed, matrices, factors, batch, batch_last)

    def _step_matrix(self, setup: _Setup, step) -> tf.Tensor | None:
        """The matrix an ``"apply"`` step applies (None for a join)."""
        if step.kind != "apply":
            return None
        return self._block_matrix(setup.plan.blocks[step.block], setup.matrices)

    def _state_step(self, setup: _Setup, step, factors: list, matrix) -> list:
        """One step of the state schedule: the factors after it (``matrix``: the applied
        block's, None for a join)."""
        if step.kind == "join":
            second = next(m for m in step.modes if m not in step.first)
            return _join(factors, step.first[0], second, self.cutoff, setup.batch_last)
        block = setup.plan.blocks[step.block]
        if setup.batch_last and not block.batched:
            return _apply_shared(factors, block.modes, matrix, self.cutoff)
        return _apply_block(factors, block.modes, matrix, self.cutoff)

    def _finish(self, setup: _Setup, factors: list) -> tf.Tensor:
        """The full ket in mode order, broadcast to the batch."""
        ket = _in_mode_order(factors, setup.run.n_modes)
        if setup.batch is None:
            return tf.reshape(ket, [self.cutoff] * setup.run.n_modes)
        shape = tf.concat([[setup.batch], [self.cutoff] * setup.run.n_modes], axis=0)
        return tf.broadcast_to(ket, shape)

    # ---------------------------------------- eager use: a gradient that replays the steps

    def _replayed_ket(self, values: tuple, batch_size: int | None) -> tf.Tensor:
        """The ket, with a gradient that needs only the arguments and the state
        before each step (:meth:`_replayed_gradient`).

        TensorFlow's gradient of an eagerly called compiled function is a second function,
        fed every intermediate the gradient graph uses: with autodiff through the gate
        constructions that is a few hundred tensors (281 on the engine benchmark circuit),
        and on a 2-core CPU each tensor crossing a function boundary costs tens of
        microseconds. With this gradient the crossing is the arguments and the trail.
        """

        @tf.custom_gradient
        def simulation(*args):
            trail: list = []
            ket = self._ket(self._setup(args, batch_size), trail)

            def gradient(upstream):
                return self._replayed_gradient(args, batch_size, trail, upstream)

            return ket, gradient

        # (graph mode: custom_gradient reads Variables and converts every value to a tensor)
        return simulation(*values)

    def _replayed_gradient(self, args: tuple, batch_size, trail: list, upstream) -> list:
        """Gradients of ``sum(re(conj(upstream) * ket))`` w.r.t. ``args`` (TensorFlow's
        convention for a complex output), from the factors saved before each step.

        Each step is replayed on its saved input under its own tape and only its gradient
        is kept, so the replayed product is pruned from the graph; the gate matrices are
        built again from ``args`` (batch-independent or per-gate: small) and the block
        matrices' gradients taken back through them.
        """
        with tf.GradientTape(persistent=True) as outer:
            outer.watch(args)
            setup = self._setup(args, batch_size)
            steps = setup.plan.state
            matrices = [self._step_matrix(setup, step) for step in steps]
        d_matrices = [None] * len(steps)
        grads = [upstream]
        for index in range(len(trail) - 1, -1, -1):
            inputs = trail[index]
            sources = [t for _, t in inputs]
            matrix = matrices[index] if index < len(steps) else None
            with tf.GradientTape() as tape:
                tape.watch(sources)
                if matrix is not None:
                    tape.watch(matrix)
                if index < len(steps):
                    after = self._state_step(setup, steps[index], inputs, matrix)
                    outputs = [t for _, t in after]
                else:
                    outputs = [self._finish(setup, inputs)]
            got = tape.gradient(
                outputs,
                sources if matrix is None else [*sources, matrix],
                output_gradients=grads,
                unconnected_gradients=tf.UnconnectedGradients.ZERO,
            )
            if matrix is not None:
                d_matrices[index] = got.pop()
            grads = got
        targets = [t for _, t in setup.factors]
        target_grads = list(grads)
        for matrix, grad in zip(matrices, d_matrices, strict=True):
            if matrix is not None:
                targets.append(matrix)
                target_grads.append(grad)
        return outer.gradient(
            targets,
            list(args),
            output_gradients=target_grads,
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )

    def _terminal_channel(self, indices, parsed, batch) -> tf.Tensor:
        """The composed superoperator of one mode's terminal channels ``[(B,) D, D, D, D]``."""
        total = None
        for i in indices:
            args = parsed[i]
            if batch is not None and any(a.shape.rank == 1 for a in args):
                args = [tf.broadcast_to(a, [batch]) for a in args]
            channel = _BUILDERS[self.circuit.instructions[i].name](*args, self.cutoff, self.dtype)
            total = (
                channel if total is None else gates.compose_superops(channel, total, self.cutoff)
            )
        return total

    def _evaluate(self, p: Parameter, named: dict) -> tf.Tensor | float:
        if p.is_constant:
            return tf.constant(p.value, self.real_dtype)
        if isinstance(p.value, str):
            return named[p.value]
        return tf.cast(self._expressions[p](*[named[n] for n in p.names]), self.real_dtype)

    def _gate_matrices(self, run: Circuit, params, batched, batch) -> dict[int, tf.Tensor]:
        """Build every gate's matrix, one vectorised call per (kind, batched) group; a
        bra-side copy (name + ``"~"``) takes the complex conjugate of its ket-side group's
        matrices."""
        groups: dict[tuple[str, bool], list[int]] = defaultdict(list)
        for index, instr in enumerate(run.instructions):
            if instr.name in _BUILDERS:
                groups[instr.name, batched[index]].append(index)
        matrices = {}
        for (name, is_batched), indices in groups.items():
            built = self._build_group(name, indices, params, is_batched, batch)
            for index, matrix in zip(indices, tf.unstack(built, axis=0), strict=True):
                matrices[index] = matrix
        for index, instr in enumerate(run.instructions):
            if instr.name.endswith(CONJ) and instr.name.removesuffix(CONJ) in _BUILDERS:
                # the ket-side copy is the instruction before
                matrices[index] = tf.math.conj(matrices[index - 1])
        return matrices

    def _build_group(self, name, indices, params, is_batched, batch) -> tf.Tensor:
        """One vectorised builder call for the gates ``indices`` of kind ``name``."""
        columns = []
        for k in range(len(params[indices[0]])):
            args = [params[i][k] for i in indices]
            if is_batched:
                args = [tf.broadcast_to(a, [batch]) for a in args]
            columns.append(tf.stack(args, axis=0))
        return _BUILDERS[name](*columns, self.cutoff, self.dtype)

    def _initial_factors(self, run: Circuit, plan: Plan, params, batched) -> list:
        """One factor per mode: its prepared (or vacuum) vector with a batch axis."""
        factors = []
        for mode, index in enumerate(plan.preparations):
            if index is None:
                vec = gates.fock_state(0, self.cutoff, self.dtype)
            else:
                instr = run.instructions[index]
                vec = self._preparation(instr, params[index])
            if index is None or not batched[index]:
                vec = vec[None]
            factors.append(([mode], vec))
        return factors

    def _preparation(self, instr: Instruction, args) -> tf.Tensor:
        name = instr.name.removesuffix(CONJ)
        if name == "Vacuum":
            return gates.fock_state(0, self.cutoff, self.dtype)
        if name == "Fock":
            n = int(instr.params[0].value)
            if not 0 <= n < self.cutoff:
                raise ValueError(f"Fock: photon number {n} must be in [0, cutoff={self.cutoff})")
            return gates.fock_state(n, self.cutoff, self.dtype)
        vec = _STATES[name](*args, self.cutoff, self.dtype)
        return tf.math.conj(vec) if instr.name.endswith(CONJ) else vec

    def _block_matrix(self, block: Block, matrices) -> tf.Tensor:
        """Compose a block's gates into one ``[(B,) D^k, D^k]`` matrix by its ``ops``."""
        d = self.cutoff
        total = None
        pending: dict[int, tf.Tensor] = {}
        for op in block.ops:
            if op.kind == "single":
                prior = pending.get(op.mode)
                matrix = matrices[op.index]
                pending[op.mode] = matrix if prior is None else tf.linalg.matmul(matrix, prior)
                continue
            if op.kind == "flush":
                if len(block.modes) == 1:
                    matrix = pending.pop(block.modes[0])
                else:
                    matrix = _kron(*(pending.pop(m, None) for m in block.modes), d)
                pending.clear()
            else:  # "pair"
                matrix = matrices[op.index]
                if op.swap:
                    matrix = _swap_modes(matrix)
                matrix = tf.reshape(matrix, _static_lead(matrix, 4) + [d * d, d * d])
            total = matrix if total is None else tf.linalg.matmul(matrix, total)
        return total


def _static_lead(tensor: tf.Tensor, inner: int) -> list:
    """Leading (batch) dims of ``tensor`` before its last ``inner`` axes, static where known."""
    lead = tensor.shape[: tensor.shape.rank - inner].as_list()
    if all(n is not None for n in lead):
        return lead
    dynamic = tf.shape(tensor)
    return [n if n is not None else dynamic[i] for i, n in enumerate(lead)]


def _kron(first: tf.Tensor | None, second: tf.Tensor | None, d: int) -> tf.Tensor:
    """``first (x) second`` as a ``[(B,) D^2, D^2]`` operator; ``None`` is the identity."""
    eye = tf.eye(d, dtype=(first if first is not None else second).dtype)
    first = eye if first is None else first
    second = eye if second is None else second
    full = first[..., :, None, :, None] * second[..., None, :, None, :]
    return tf.reshape(full, _static_lead(full, 4) + [d * d, d * d])


def _swap_modes(matrix: tf.Tensor) -> tf.Tensor:
    """``U[.., m, n, p, q] -> U[.., n, m, q, p]``: the same gate with its modes listed swapped."""
    rank = matrix.shape.rank
    lead = list(range(rank - 4))
    return tf.transpose(matrix, lead + [rank - 3, rank - 4, rank - 1, rank - 2])


# --------------------------------------------------------------------- state kernels


def _join(factors: list, a: int, b: int, d: int, batch_last: bool = False) -> list:
    """Join the factor holding mode ``a`` with the one holding ``b`` (``a``'s modes first),
    batch-last if ``batch_last`` (no transpose of the joined state), else batch-first."""
    ia, ib = _find(factors, a), _find(factors, b)
    if batch_last:
        merged = _outer_batch_last(_batch_last(factors[ia]), _batch_last(factors[ib]), d)
    else:
        merged = _outer(_batch_first(factors[ia]), _batch_first(factors[ib]), d)
    return [f for i, f in enumerate(factors) if i not in (ia, ib)] + [merged]


def _apply_block(factors: list, modes, matrix: tf.Tensor, d: int) -> list:
    """Apply a block's matrix to the factor holding ``modes`` (the plan has joined them);
    returns new factors."""
    where = _find(factors, modes[0])
    order, tensor = _batch_first(factors[where])
    if len(modes) == 1:
        tensor = _apply_on_axes(tensor, order.index(modes[0]), 1, matrix, d)
        return factors[:where] + [(order, tensor)] + factors[where + 1 :]
    a, b = modes
    if where != _find(factors, b):
        raise AssertionError(f"plan error: modes {a} and {b} are not joined before their block")
    order, tensor, matrix = _pair_adjacent(order, tensor, matrix, a, b, d, lead=1)
    tensor = _apply_on_axes(tensor, min(order.index(a), order.index(b)), 2, matrix, d)
    return factors[:where] + [(order, tensor)] + factors[where + 1 :]


def _pair_adjacent(order: list, tensor: tf.Tensor, matrix: tf.Tensor, a, b, d: int, lead: int):
    """``(order, tensor, matrix)`` with mode ``b`` right after mode ``a`` in the state's
    axes: if ``b`` is right before ``a`` the gate is swapped, not the state; otherwise ``b``
    is moved next to ``a`` (one transpose). ``lead``: axes of ``tensor`` before those
    ``order`` lists (1 for a batch-first factor, 0 when ``order`` lists the batch axis)."""
    pa, pb = order.index(a), order.index(b)
    if pb == pa - 1:
        return order, tensor, _swap_pair(matrix, d)
    if pb != pa + 1:
        new_order = [m for m in order if m != b]
        new_order.insert(new_order.index(a) + 1, b)
        perm = [*range(lead), *(lead + order.index(m) for m in new_order)]
        return new_order, tf.transpose(tensor, perm), matrix
    return order, tensor, matrix


def _swap_pair(matrix: tf.Tensor, d: int) -> tf.Tensor:
    """A ``[(B,) D^2, D^2]`` two-mode operator with its two modes exchanged."""
    lead = _static_lead(matrix, 2)
    swapped = _swap_modes(tf.reshape(matrix, lead + [d, d, d, d]))
    return tf.reshape(swapped, lead + [d * d, d * d])


def _find(factors: list, mode: int) -> int:
    return next(i for i, (order, _) in enumerate(factors) if mode in order)


def _outer(first, second, d: int):
    """Tensor product of two factors (batch axes broadcast); modes of ``first`` come first."""
    (order1, t1), (order2, t2) = first, second
    t1 = tf.reshape(t1, _static_lead(t1, len(order1)) + [d ** len(order1), 1])
    t2 = tf.reshape(t2, _static_lead(t2, len(order2)) + [1, d ** len(order2)])
    product = t1 * t2
    dims = [d] * (len(order1) + len(order2))
    return (order1 + order2, tf.reshape(product, _static_lead(product, 2) + dims))


def _apply_on_axes(tensor: tf.Tensor, pos: int, width: int, matrix: tf.Tensor, d: int):
    """Contract ``matrix`` ``[(B,) D^w, D^w]`` with state axes ``pos .. pos+w-1`` (0 = first mode).

    The state ``[b, D, ..., D]`` is viewed as ``[b, L, D^w, R]`` (L, R: the other axes
    before and after) and multiplied in place, so no transpose of the state is needed.
    """
    rank = tensor.shape.rank - 1
    left = d**pos
    right = d ** (rank - pos - width)
    size = d**width
    batch = _static_lead(tensor, rank)[0]
    matrix_batched = matrix.shape.rank == 3
    if right == 1:
        view = tf.reshape(tensor, [batch, left, size])
        if matrix_batched:
            out = tf.linalg.matmul(view, matrix, transpose_b=True)
        else:
            out = tf.reshape(
                tf.linalg.matmul(tf.reshape(view, [-1, size]), matrix, transpose_b=True),
                [batch, left, size],
            )
    else:
        view = tf.reshape(tensor, [batch, left, size, right])
        op = matrix[:, None] if matrix_batched else matrix[None, None]
        out = tf.linalg.matmul(op, view)
    return tf.reshape(out, _static_lead(out, out.shape.rank - 1) + [d] * rank)


def _in_mode_order(factors: list, n_modes: int) -> tf.Tensor:
    """The full ket ``[b, D, ..., D]`` in mode order from the one factor left (the plan has
    joined all)."""
    ((order, tensor),) = factors
    axes = list(order) if BATCH in order else [BATCH, *order]
    target = [BATCH, *range(n_modes)]
    if axes != target:  # one transpose, whichever end the batch axis is at
        tensor = tf.transpose(tensor, [axes.index(a) for a in target])
    return tensor


# ------------------------------------------------- batch-independent blocks, batch last
#
# A factor is ``(order, tensor)``. Batch-first (the kernels above): ``order`` lists its
# modes and ``tensor`` is ``[b, D, ..., D]``. Batch-last: ``order`` ends with ``BATCH``
# and ``tensor`` is ``[D, ..., D, b]``. A batch-independent block on adjacent modes of a
# batch-last factor is one product ``M @ X_l`` for each ``l`` of the modes before it,
# with ``X_l`` a ``[D^w, rest * b]`` matrix: few products with long rows, whose gradient
# with respect to ``M`` sums few ``[D^w, D^w]`` terms. Batch-first, the same block in the
# middle of the state is one small product per batch row (and per mode value before it),
# and its gradient sums as many ``[D^w, D^w]`` terms.

BATCH = -1  # the batch axis's label in a batch-last factor's order (size 1 or B)


def _batch_last(factor):
    """The factor with its batch axis last (a transpose if it is first)."""
    order, tensor = factor
    if BATCH in order:
        return factor
    rank = tensor.shape.rank
    return [*order, BATCH], tf.transpose(tensor, [*range(1, rank), 0])


def _outer_batch_last(first, second, d: int):
    """Tensor product of two batch-last factors (batch axes broadcast), ``first``'s modes
    first."""
    (order1, t1), (order2, t2) = first, second
    n1, n2 = len(order1) - 1, len(order2) - 1
    t1 = tf.reshape(t1, [d**n1, 1, -1])
    t2 = tf.reshape(t2, [1, d**n2, -1])
    product = t1 * t2
    batch = _static_lead(product, 0)[-1]
    return [*order1[:-1], *order2[:-1], BATCH], tf.reshape(product, [d] * (n1 + n2) + [batch])


def _batch_first(factor):
    """The factor with its batch axis first (a transpose if it is last)."""
    order, tensor = factor
    if BATCH not in order:
        return factor
    rank = tensor.shape.rank
    return order[:-1], tf.transpose(tensor, [rank - 1, *range(rank - 1)])


@tf.custom_gradient
def _left_product(matrix: tf.Tensor, view: tf.Tensor):
    """``matrix @ view[l]`` for every ``l``: ``[K, K]``, ``[L, K, N]`` -> ``[L, K, N]``.

    The gradient takes conjugate transposes inside the matrix products (TensorFlow's own
    gradient of a product conjugates both inputs first: one more pass over the state);
    the matrix's gradient is the sum over ``l`` of ``upstream[l] @ view[l]^dagger``.
    """
    out = tf.linalg.matmul(matrix[None], view)

    def gradient(upstream):
        d_view = tf.linalg.matmul(matrix[None], upstream, adjoint_a=True)
        d_matrix = tf.reduce_sum(tf.linalg.matmul(upstream, view, adjoint_b=True), axis=0)
        return d_matrix, d_view

    return out, gradient


def _batch_last_pays(plan: Plan, n_modes: int, d: int, batch: int | None) -> bool:
    """Whether to apply the plan's batch-independent blocks batch-last. There a block on
    modes ``a..a+w-1`` of the full state is ``L = D^a`` products with rows of length
    ``R = D^(n-a-w) * B``, which pays while ``L <= R`` (few long products). A block near
    the end of a wide state with a small batch breaks that (many short products; batch
    first it is one product), and then the whole circuit stays batch-first: switching
    layouts costs a transpose of the state each time. ``batch``: the static batch size
    (1 without a batch; None: known only at run time, taken as large)."""
    if batch is None:
        return True
    for block in plan.blocks:
        if block.batched:
            continue
        a, w = min(block.modes), len(block.modes)
        if d**a > d ** (n_modes - a - w) * batch:
            return False
    return True


def _apply_shared(factors: list, modes, matrix: tf.Tensor, d: int) -> list:
    """Apply a batch-independent block ``[D^w, D^w]`` to the factor holding ``modes``,
    batch-last (one transpose if the factor is batch-first or its modes are not
    adjacent)."""
    where = _find(factors, modes[0])
    order, tensor = _batch_last(factors[where])
    if len(modes) == 2:
        order, tensor, matrix = _pair_adjacent(order, tensor, matrix, *modes, d, lead=0)
    pos = min(order.index(m) for m in modes)
    shape = _static_lead(tensor, 0)
    if pos == 0:
        out = tf.linalg.matmul(matrix, tf.reshape(tensor, [d ** len(modes), -1]))
    else:
        out = _left_product(matrix, tf.reshape(tensor, [d**pos, d ** len(modes), -1]))
    out = tf.reshape(out, shape)
    return factors[:where] + [(order, out)] + factors[where + 1 :]


# --------------------------------------------------------------------- cache

# SF programs define __eq__ without __hash__, so the cache is keyed on id() and each
# entry dies with its program (weakref.finalize), so a reused id() never hits a stale one.
_cache: dict[int, dict] = {}


def compiled_circuit(
    prog, circuit_factory, cutoff: int, dtype: tf.DType, options: PlannerOptions | None = None
) -> CompiledCircuit:
    """The cached :class:`CompiledCircuit` of ``prog`` at this cutoff, dtype and planner
    ``options`` (default :data:`qgan.photonic.plan.DEFAULT_OPTIONS`, read at call time).

    The key includes the program's length, so appending to a program recompiles it.
    """
    options = planner.DEFAULT_OPTIONS if options is None else options  # read now: switchable
    key = id(prog)
    if key not in _cache:
        _cache[key] = {}
        weakref.finalize(prog, _cache.pop, key, None)
    per_program = _cache[key]
    entry = (len(prog.circuit), cutoff, tf.as_dtype(dtype).name, options)
    if entry not in per_program:
        per_program[entry] = CompiledCircuit(circuit_factory(prog), cutoff, dtype, options)
    return per_program[entry]


__all__ = ["CompiledCircuit", "compiled_circuit", "trace_count"]
