"""Execution plan: group a circuit's gates into blocks acting on at most two modes.

Applying a gate to the state costs one pass over ``B * D^M`` amplitudes, while composing
two gates' small matrices costs ``D^6`` at most, independent of the batch. The planner
therefore folds every single-mode gate into the most recent block on its mode (gates on
other modes commute with it), and folds pending single-mode blocks into the next
two-mode gate on their modes. A block only takes in per-sample (batched) gates if it is
already batched, or if it is a single-mode block: a batch-independent block keeps one
matrix for the whole batch.

Preparations are not blocks; they set a mode's initial vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qgan.photonic.program import PREPARATIONS, Circuit, Instruction


@dataclass
class Block:
    """Instructions (indices into the circuit) applied as one matrix on ``modes``."""

    modes: tuple[int, ...]
    steps: list[int] = field(default_factory=list)
    batched: bool = False
    alive: bool = True


@dataclass(frozen=True)
class Plan:
    """Preparation instruction per mode (or None for vacuum) and blocks in execution order."""

    preparations: tuple[int | None, ...]
    blocks: tuple[Block, ...]


def make_plan(circuit: Circuit, batched: list[bool]) -> Plan:
    """Plan ``circuit``; ``batched[i]`` says whether instruction i has a per-sample argument."""
    preparations: list[int | None] = [None] * circuit.n_modes
    blocks: list[Block] = []
    last: dict[int, Block] = {}
    for index, instr in enumerate(circuit.instructions):
        if instr.name in PREPARATIONS:
            preparations[instr.modes[0]] = index
            continue
        is_batched = batched[index]
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
    return Plan(tuple(preparations), tuple(b for b in blocks if b.alive))


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
