"""Cost pre-flight and budget guard of the IonQ backend (``max_cost_usd``).

A workload is a list of phases, each ``(circuits, shots)``: ``circuits`` circuits of one
model structure run ``shots`` times each (a training run: one phase per shot setting, its
circuits summed over the epochs at that setting, as the run's circuit accounting counts
them). Its cost is estimated per circuit and multiplied by the circuits of each phase:

* **server** (preferred): IonQ API v0.4 ``GET /jobs/estimate``
  (https://docs.ionq.com/api-reference/v0.4/jobs/get-job-estimate), one request per phase
  with the query ``backend``, ``type=ionq.circuit.v1``, ``qubits``, ``shots``, ``1q_gates``,
  ``2q_gates`` (native gates of one circuit) and ``error_mitigation`` (debiasing on); its
  ``estimated_cost`` (in ``cost_unit``) is the price of one such circuit.
* **local** (when the server answers 404, i.e. has no estimate endpoint, or prices in a
  unit other than USD): the published price lists of :mod:`qgan.qubit.ionq.estimate`, the
  most expensive list of the target (a guard should not under-estimate). The local lists do
  not price debiasing.

Native gate counts are those of the worst of a few sampled circuits of the structure
(:func:`qgan.qubit.ionq.estimate.estimate_model`'s rule). Each circuit is priced as its
own job (the per-circuit minimum charge included), an upper bound for multi-circuit jobs.
The cloud simulator is free (cost 0).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np

from qgan._validate import check_int
from qgan.qubit.ionq.estimate import TARGETS, native_counts, sample_circuit

log = logging.getLogger(__name__)


class IonQBudgetExceeded(ValueError):
    """A workload's estimated cost exceeds ``max_cost_usd``; nothing was submitted for it."""


@dataclasses.dataclass(frozen=True)
class CostEstimate:
    """The estimated cost of a workload.

    ``usd``: total in US dollars; ``source``: ``server`` (``GET /jobs/estimate``),
    ``local`` (published price lists) or ``free`` (the simulator); ``circuits`` and
    ``shots``: totals; ``phases``: per phase ``{circuits, shots, usd_per_circuit}``.
    """

    target: str
    usd: float
    source: str
    circuits: int
    shots: int
    phases: tuple

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "phases": [dict(p) for p in self.phases]}


def check_phases(phases) -> list[tuple[int, int]]:
    """``phases`` as a list of (circuits >= 0, shots >= 1) int pairs."""
    out = []
    for i, phase in enumerate(phases):
        try:
            circuits, shots = phase
        except (TypeError, ValueError):
            raise ValueError(
                f"phases[{i}]: expected a (circuits, shots) pair, got {phase!r}"
            ) from None
        out.append((check_int(circuits, f"phases[{i}].circuits", 0),
                    check_int(shots, f"phases[{i}].shots", 1)))  # fmt: skip
    return out


def local_usd_per_circuit(target: str, one_qubit: int, two_qubit: int, shots: int) -> float:
    """USD of one circuit by the most expensive published price list of ``target``."""
    facts = TARGETS.get(target)
    if facts is None:
        raise ValueError(
            f"max_cost_usd: no local price list for target {target!r} (known: "
            f"{', '.join(TARGETS)}) and the server gave no estimate"
        )
    costs = [price.cost(one_qubit, two_qubit, shots) for price in facts.prices.values()]
    return float(max(costs, default=0.0))


def worst_counts(model, gateset: str, samples: int = 3, seed: int = 0) -> tuple[int, int]:
    """(one-qubit, two-qubit) native gates of the worst of ``samples`` random circuits of
    ``model`` compiled for ``gateset`` (``aria`` / ``forte``)."""
    rng = np.random.default_rng(seed)
    circuits = [sample_circuit(model, rng) for _ in range(samples)]
    worst = np.max(np.asarray(native_counts(circuits, gateset)), axis=0)
    return int(worst[0]), int(worst[1])


def estimate_workload(
    client, target: str, model, phases, gateset: str, debias: bool = False
) -> CostEstimate:
    """The cost of ``phases`` of ``model`` circuits on ``target`` (see the module text).

    Args:
        client: a :class:`qgan.qubit.ionq.jobs.JobClient` (the server estimate), or None
            for the local estimate only.
        target: ``simulator`` or ``qpu.<system>``.
        model: a ``QubitModel``.
        phases: [(circuits, shots), ...].
        gateset: native gateset the gate counts are taken in (``aria`` / ``forte``).
        debias: whether the jobs are debiased (sent to the server estimate).
    """
    phases = check_phases(phases)
    total_circuits = sum(c for c, _ in phases)
    total_shots = sum(c * s for c, s in phases)
    if target == "simulator":
        rows = tuple({"circuits": c, "shots": s, "usd_per_circuit": 0.0} for c, s in phases)
        return CostEstimate(target, 0.0, "free", total_circuits, total_shots, rows)
    one, two = worst_counts(model, gateset)
    source = "server"
    per_circuit: list[float] = []
    for _, shots in phases:
        reply = None
        if client is not None:
            reply = client.estimate(
                {
                    "backend": target,
                    "type": "ionq.circuit.v1",
                    "qubits": model.n_qubits,
                    "shots": shots,
                    "1q_gates": one,
                    "2q_gates": two,
                    "error_mitigation": "true" if debias else "false",
                }
            )
            if reply is not None and str(reply.get("cost_unit", "usd")).lower() != "usd":
                log.warning(
                    "IonQ cost estimate is in %r, not USD: using the local price lists",
                    reply.get("cost_unit"),
                )
                reply = None
        if reply is None:
            if source == "server":
                log.info(
                    "IonQ cost pre-flight: %s; using the local price lists",
                    "no server estimate (GET /jobs/estimate not offered)"
                    if client is not None
                    else "local estimate requested",
                )
            source = "local"
            per_circuit = [local_usd_per_circuit(target, one, two, s) for _, s in phases]
            break
        per_circuit.append(float(reply["estimated_cost"]))
    rows = tuple(
        {"circuits": c, "shots": s, "usd_per_circuit": u} for (c, s), u in zip(phases, per_circuit)
    )
    usd = float(sum(c * u for (c, _), u in zip(phases, per_circuit)))
    return CostEstimate(target, usd, source, total_circuits, total_shots, rows)


def check_budget(estimate: CostEstimate, limit: float | None, what: str = "the run") -> None:
    """Raise :class:`IonQBudgetExceeded` (one line: the estimate and the limit) when
    ``estimate.usd`` exceeds ``limit`` (None: no limit)."""
    if limit is None or estimate.usd <= limit:
        return
    raise IonQBudgetExceeded(
        f"max_cost_usd: {what} is estimated at {estimate.usd:,.2f} USD ({estimate.source} "
        f"estimate: {estimate.circuits:,} circuits, {estimate.shots:,} shots on "
        f"{estimate.target}), over the limit of {limit:,.2f} USD; nothing was submitted"
    )


def phases_usd_local(target: str, counts: Sequence[tuple[int, int]], shots: int) -> float:
    """USD of circuits with these (one-qubit, two-qubit) native gate counts, ``shots``
    each, by the local price lists (0 for the simulator)."""
    if target == "simulator":
        return 0.0
    return float(sum(local_usd_per_circuit(target, a, b, shots) for a, b in counts))
