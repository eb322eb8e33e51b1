"""Execution plan: the schedule the compiled engine runs, built before any tensor exists.

Applying a gate to the state costs one pass over ``B * D^M`` amplitudes, while composing
two gates' small matrices costs ``D^6`` at most, independent of the batch. With fusion on
(``PlannerOptions.fuse``), the planner therefore folds every single-mode gate into the most
recent block on its mode (gates on other modes commute with it), and folds pending
single-mode blocks into the next two-mode gate on their modes. A block only takes in
per-sample (batched) gates if it is already batched, or if it is a single-mode block: a
batch-independent block keeps one matrix for the whole batch. With fusion off, every gate
is its own block.

With factoring on (``PlannerOptions.factor``), the state is kept as a product of factors:
modes that no two-mode block has joined yet stay separate vectors, and two factors are
joined (outer product) when a block first couples them; with factoring off, all modes are
joined into one factor before the first block.

The plan holds, per block, how its matrix is composed (:class:`ComposeOp`), and the state
schedule (:class:`StateStep`: joins and block applications in order). The engine
(:mod:`qgan.photonic.engine`) executes exactly these steps, and the flop counter
(:mod:`qgan.profiling.throughput`) counts them. Preparations are not blocks; they set a
mode's initial vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qgan.photonic.program import (
    CHANNELS,
    MIXED_PREPARATIONS,
    PREPARATIONS,
    Circuit,
    Instruction,
    parse_program,
)

CONJ = "~"  # suffix of a bra-side copy of an instruction (complex-conjugated matrix)


@dataclass(frozen=True)
class PlannerOptions:
    """``fuse``: fold gates into blocks (one matrix per block; off: one block per gate).
    ``factor``: keep unjoined modes as separate state factors (off: one joint state).
    ``batch_last``: the engine applies batch-independent blocks to the state with its batch
    axis last (few long matrix products; off: batch first, one small product per batch
    row for a block in the middle of the state); an execution choice, the plan is the
    same. ``replay_gradient``: called eagerly, the engine's gradient replays the state
    schedule from the state saved before each step (``CompiledCircuit._replayed_ket`` in
    :mod:`qgan.photonic.engine`; off: TensorFlow's autodiff of the whole simulation); an
    execution choice too."""

    fuse: bool = True
    factor: bool = True
    batch_last: bool = True
    replay_gradient: bool = True


DEFAULT_OPTIONS = PlannerOptions()


@dataclass(frozen=True)
class ComposeOp:
    """One step of composing a block's matrix from its gates' matrices.

    ``kind``: ``"single"`` (multiply single-mode gate ``index``, ``D x D``, into the pending
    product on ``mode``), ``"flush"`` (lift the pending single-mode products to the block's
    modes, by a Kronecker product on two modes, and multiply them into the running product)
    or ``"pair"`` (multiply two-mode gate ``index``, ``D^2 x D^2``, into the running product;
    ``swap``: the gate lists the block's modes in the other order).
    """

    kind: str
    index: int | None = None
    mode: int | None = None
    swap: bool = False


@dataclass(frozen=True)
class StateStep:
    """One step of the state schedule.

    ``kind``: ``"join"`` (outer product of the factor holding modes ``first`` with the one
    holding the rest of ``modes``) or ``"apply"`` (block ``block``'s matrix applied to the
    factor holding its modes). ``modes``: the factor's modes after the step, in its axis
    order; ``batched``: whether that factor then has one vector per sample.
    """

    kind: str
    modes: tuple[int, ...]
    batched: bool
    first: tuple[int, ...] = ()
    block: int | None = None


@dataclass
class Block:
    """Instructions (indices into the circuit) applied as one matrix on ``modes``;
    ``ops``: how that matrix is composed from theirs."""

    modes: tuple[int, ...]
    steps: list[int] = field(default_factory=list)
    batched: bool = False
    alive: bool = True
    ops: tuple[ComposeOp, ...] = ()

    @property
    def kind(self) -> str:
        """``"per-sample"`` (one matrix per sample) or ``"fused unitary"`` (one for the batch)."""
        return "per-sample" if self.batched else "fused unitary"


@dataclass(frozen=True)
class Plan:
    """Preparation instruction per mode (or None for vacuum), blocks in execution order,
    whether each instruction is per-sample, the state schedule, and the options used."""

    preparations: tuple[int | None, ...]
    blocks: tuple[Block, ...]
    batched: tuple[bool, ...]
    state: tuple[StateStep, ...]
    options: PlannerOptions = DEFAULT_OPTIONS

    def summary(self, cutoff: int, batch_size: int | None = None) -> list[dict]:
        """The state schedule as rows: ``step`` (join / apply), ``modes`` (of the factor),
        ``kind`` (of an applied block), ``matrix`` (its ``D^w``), ``gates`` (how many it
        fuses) and ``amplitudes`` (of the factor, over the batch where it is per-sample)."""
        rows = []
        for step in self.state:
            samples = batch_size if (step.batched and batch_size) else 1
            row = {
                "step": step.kind,
                "modes": step.modes,
                "amplitudes": samples * cutoff ** len(step.modes),
            }
            if step.kind == "apply":
                block = self.blocks[step.block]
                row.update(
                    kind=block.kind, matrix=cutoff ** len(block.modes), gates=len(block.steps)
                )
            rows.append(row)
        return rows


def plan(program, per_sample=(), options: PlannerOptions | None = None) -> Plan:
    """The plan the compiled engine executes for the SF ``program`` when the free parameters
    named in ``per_sample`` take one value per sample (shape [B]) and all others are shared.
    It does not depend on the cutoff or the batch size (see :meth:`Plan.summary`)."""
    circuit = lower(parse_program(program)).circuit
    per_sample = set(per_sample)
    unknown = per_sample - set(circuit.free_params)
    if unknown:
        raise ValueError(
            f"per_sample names {sorted(unknown)} are not free parameters of the program"
        )
    batched = [
        any(n in per_sample for p in ins.params for n in p.names) for ins in circuit.instructions
    ]
    return make_plan(circuit, batched, options)


def make_plan(circuit: Circuit, batched: list[bool], options: PlannerOptions | None = None) -> Plan:
    """Plan ``circuit``; ``batched[i]`` says whether instruction i has a per-sample argument.
    ``options`` defaults to :data:`DEFAULT_OPTIONS` (fusion and factoring on)."""
    options = DEFAULT_OPTIONS if options is None else options
    preparations: list[int | None] = [None] * circuit.n_modes
    blocks: list[Block] = []
    last: dict[int, Block] = {}
    for index, instr in enumerate(circuit.instructions):
        if is_preparation(instr.name):
            preparations[instr.modes[0]] = index
            continue
        is_batched = batched[index]
        if not options.fuse:
            blocks.append(Block(instr.modes, [index], is_batched))
            continue
        if len(instr.modes) == 1:
            (mode,) = instr.modes
            block = last.get(mode)
            if block is not None and (block.batched or not is_batched or len(block.modes) == 1):
                block.steps.append(index)
                block.batched |= is_batched
            else:
                block = Block((mode,), [index], is_batched)
                blocks.append(block)
                last[mode] = block
            continue
        block = _two_mode_block(instr, index, is_batched, last)
        if block is None:
            block = Block(instr.modes, [], is_batched)
            for mode in instr.modes:
                prior = last.get(mode)
                # A single-mode block that is still the latest on its mode can move forward
                # in time to here and be absorbed, unless that would batch this block.
                movable = prior is not None and len(prior.modes) == 1
                if movable and (is_batched or not prior.batched):
                    block.steps.extend(prior.steps)
                    prior.alive = False
            block.steps.append(index)
            blocks.append(block)
            for mode in instr.modes:
                last[mode] = block
    blocks = [b for b in blocks if b.alive]
    for block in blocks:
        block.ops = _composition(block, circuit.instructions)
    prepared = [i is not None and batched[i] for i in preparations]
    state = _state_schedule(prepared, blocks, options.factor)
    return Plan(tuple(preparations), tuple(blocks), tuple(batched), state, options)


def _composition(block: Block, instructions) -> tuple[ComposeOp, ...]:
    """How the engine composes ``block``'s matrix: single-mode gates between two-mode gates
    are multiplied per mode (D x D), then lifted to the block's modes by one Kronecker
    product, which keeps the number of graph ops small."""
    ops, pending = [], False
    for index in block.steps:
        instr = instructions[index]
        if len(instr.modes) == 1:
            ops.append(ComposeOp("single", index, instr.modes[0]))
            pending = True
            continue
        if pending:
            ops.append(ComposeOp("flush"))
            pending = False
        ops.append(ComposeOp("pair", index, swap=tuple(instr.modes) != tuple(block.modes)))
    if pending:
        ops.append(ComposeOp("flush"))
    return tuple(ops)


def _state_schedule(prepared: list[bool], blocks: list[Block], factor: bool):
    """Joins and block applications in order; ``prepared[m]``: mode m starts per-sample.
    The last steps join the remaining factors into the full state."""
    factors = [((m,), b) for m, b in enumerate(prepared)]  # (modes, batched) per factor
    steps: list[StateStep] = []

    def join(i: int, j: int, front: bool = False) -> None:
        """Join factors i and j (i's modes first); the result goes last, or first."""
        (first, b1), (second, b2) = factors[i], factors[j]
        joined = (first + second, b1 or b2)
        rest = [f for k, f in enumerate(factors) if k not in (i, j)]
        factors[:] = [joined, *rest] if front else [*rest, joined]
        steps.append(StateStep("join", joined[0], joined[1], first=first))

    def where(mode: int) -> int:
        return next(i for i, (modes, _) in enumerate(factors) if mode in modes)

    while not factor and len(factors) > 1:
        join(0, 1, front=True)
    for index, block in enumerate(blocks):
        if len(block.modes) == 2 and where(block.modes[0]) != where(block.modes[1]):
            join(where(block.modes[0]), where(block.modes[1]))
        i = where(block.modes[0])
        modes, was_batched = factors[i]
        factors[i] = (modes, was_batched or block.batched)
        steps.append(StateStep("apply", modes, factors[i][1], block=index))
    while len(factors) > 1:  # the full ket: the first factor times each of the others
        join(0, 1, front=True)
    return tuple(steps)


def _two_mode_block(
    instr: Instruction, index: int, is_batched: bool, last: dict[int, Block]
) -> Block | None:
    """The existing block on exactly this pair of modes, if the gate can join it."""
    a, b = instr.modes
    block = last.get(a)
    if block is None or block is not last.get(b) or set(block.modes) != {a, b}:
        return None
    if is_batched and not block.batched:
        return None
    block.steps.append(index)
    return block


def is_preparation(name: str) -> bool:
    """Whether an instruction of a (lowered) circuit sets a mode's initial vector."""
    return name.removesuffix(CONJ) in PREPARATIONS and name not in MIXED_PREPARATIONS


@dataclass(frozen=True)
class Lowered:
    """What the engine runs for a parsed circuit.

    ``kind``: ``"pure"`` (the circuit as it is: a ket), ``"terminal"`` (every channel acts
    after the last gate on its mode and no preparation is mixed: the ket of the circuit
    without its channels, plus the channels per mode, applied by the readouts), or ``"dm"``
    (the density matrix as a ket over ``2 n`` modes, mode ``2m`` the ket side of mode m and
    ``2m + 1`` its bra side, which is SF's density-matrix layout: gates act on the ket side
    and, complex-conjugated (name + ``"~"``), on the bra side; a channel is a two-mode
    operator, its superoperator, on the pair ``(2m, 2m + 1)``; ``Thermal`` is the operator
    ``ThermalState`` that maps the pair's vacuum to the thermal state).
    ``circuit``: the circuit the state engine runs; ``sources[i]``: the index, in the parsed
    circuit, of the instruction whose parameters ``circuit.instructions[i]`` takes;
    ``terminal``: ``(mode, parsed indices of its channels in order)`` for ``"terminal"``.
    """

    kind: str
    circuit: Circuit
    sources: tuple[int, ...]
    terminal: tuple[tuple[int, tuple[int, ...]], ...] = ()


def lower(circuit: Circuit) -> Lowered:
    """The :class:`Lowered` form of a parsed circuit (see there)."""
    instructions = circuit.instructions
    if not circuit.is_mixed:
        return Lowered("pure", circuit, tuple(range(len(instructions))))
    if _channels_terminal(instructions):
        kept = [i for i, ins in enumerate(instructions) if ins.name not in CHANNELS]
        per_mode: dict[int, list[int]] = {}
        for i, ins in enumerate(instructions):
            if ins.name in CHANNELS:
                per_mode.setdefault(ins.modes[0], []).append(i)
        pure = Circuit(circuit.n_modes, tuple(instructions[i] for i in kept), circuit.free_params)
        terminal = tuple((m, tuple(ix)) for m, ix in sorted(per_mode.items()))
        return Lowered("terminal", pure, tuple(kept), terminal)
    last_prep = {}
    for i, ins in enumerate(instructions):
        if ins.name in PREPARATIONS:
            last_prep[ins.modes[0]] = i
    doubled: list[Instruction] = []
    sources: list[int] = []
    for i, ins in enumerate(instructions):
        if ins.name in PREPARATIONS and last_prep[ins.modes[0]] != i:
            continue  # replaced by a later preparation of the same mode
        if ins.name in CHANNELS or ins.name in MIXED_PREPARATIONS:
            name = "ThermalState" if ins.name in MIXED_PREPARATIONS else ins.name
            (m,) = ins.modes
            doubled.append(Instruction(name, (2 * m, 2 * m + 1), ins.params))
            sources.append(i)
            continue
        doubled.append(Instruction(ins.name, tuple(2 * m for m in ins.modes), ins.params))
        doubled.append(
            Instruction(ins.name + CONJ, tuple(2 * m + 1 for m in ins.modes), ins.params)
        )
        sources += [i, i]
    return Lowered(
        "dm", Circuit(2 * circuit.n_modes, tuple(doubled), circuit.free_params), tuple(sources)
    )


def _channels_terminal(instructions) -> bool:
    """No mixed preparation, and no gate acts on a mode after a channel on it."""
    lossy: set[int] = set()
    for ins in instructions:
        if ins.name in MIXED_PREPARATIONS:
            return False
        if ins.name in CHANNELS:
            lossy.add(ins.modes[0])
        elif lossy.intersection(ins.modes):
            return False
    return True
