"""What an IonQ run will use, cost and take, before anything is submitted.

The counts are exact: circuits, shots, and native gates after compiling each circuit with
:func:`qgan.qubit.ionq.compile` for the target's gateset (what the backend sends). Prices
and timings are published figures, kept as data in :data:`TARGETS` with their sources;
update them there when a provider changes its list. Two ways IonQ QPU time is sold:

* **gate-shot** (IonQ direct, Azure Quantum): per circuit
  ``max(minimum, shots * (n_1q * price_1q + n_2q * price_2q))``;
* **task-shot** (Amazon Braket): per circuit (one task each) ``task + shots * shot``.

Execution time per circuit is ``shots * (n_1q * t_1q + n_2q * t_2q + readout + reset)``:
IonQ runs gates one after another, not in parallel ("Gates are executed strictly in
sequence", https://ionq.com/best-practices), so gate counts, not depth, set the time.
Queueing, calibration and network time are not included; the cloud simulator is free and
its run time is not estimated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import cirq
import numpy as np

from qgan._validate import check_int
from qgan.qubit.ionq.compilation import compile_with_report


@dataclasses.dataclass(frozen=True)
class GateShotPrice:
    """USD per one-qubit and per two-qubit gate-shot, and the minimum charge per circuit."""

    one_qubit: float
    two_qubit: float
    minimum_per_circuit: float
    source: str

    def cost(self, one_qubit: int, two_qubit: int, shots: int) -> float:
        """USD for one circuit with these native gate counts, run ``shots`` times."""
        gate_shots = shots * (one_qubit * self.one_qubit + two_qubit * self.two_qubit)
        return max(self.minimum_per_circuit, gate_shots)


@dataclasses.dataclass(frozen=True)
class TaskShotPrice:
    """USD per task (one circuit) and per shot, whatever the gates."""

    per_task: float
    per_shot: float
    source: str

    def cost(self, one_qubit: int, two_qubit: int, shots: int) -> float:
        """USD for one circuit run ``shots`` times."""
        return self.per_task + shots * self.per_shot


@dataclasses.dataclass(frozen=True)
class GateTimes:
    """Seconds per native one-qubit gate, two-qubit gate, readout and reset (per shot)."""

    one_qubit_s: float
    two_qubit_s: float
    readout_s: float
    reset_s: float
    source: str

    def seconds(self, one_qubit: int, two_qubit: int, shots: int) -> float:
        """Execution seconds of one circuit run ``shots`` times (gates in sequence)."""
        per_shot = one_qubit * self.one_qubit_s + two_qubit * self.two_qubit_s
        return shots * (per_shot + self.readout_s + self.reset_s)


@dataclasses.dataclass(frozen=True)
class TargetFacts:
    """What the estimate knows of a target: its native gateset, prices and gate times."""

    gateset: str
    prices: dict  # market name -> GateShotPrice | TaskShotPrice (empty: free)
    gate_times: GateTimes | None
    note: str = ""


# ----------------------------------------------------------------- published figures
# Sources (checked for this module; update the numbers and the dates together):
_AZURE_SDK = (
    "azure-quantum SDK, IonQ.estimate_cost defaults for ionq.qpu.aria-1 "
    "(https://learn.microsoft.com/python/azure-quantum/azure.quantum.target.ionq)"
)
_BRAKET = "Amazon Braket on-demand QPU pricing (https://aws.amazon.com/braket/pricing/)"
_AZURE_ARIA_TIMES = (
    "Aria: 1-qubit gate 135 us, 2-qubit gate 600 us (Azure Quantum IonQ provider page, "
    "https://learn.microsoft.com/azure/quantum/provider-ionq); readout 100 us and reset "
    "25 us per shot are the figures published there for IonQ's earlier Harmony system "
    "(none are listed for Aria)"
)
ARIA_PRICE = GateShotPrice(0.00022, 0.00098, 1.00, _AZURE_SDK)
ARIA_BRAKET = TaskShotPrice(0.30, 0.03, _BRAKET)
FORTE_BRAKET = TaskShotPrice(0.30, 0.08, _BRAKET)
ARIA_GATE_TIMES = GateTimes(135e-6, 600e-6, 100e-6, 25e-6, _AZURE_ARIA_TIMES)
FORTE_GATE_TIMES = dataclasses.replace(
    ARIA_GATE_TIMES, source="assumed equal to Aria's (no published Forte gate times found)"
)

#: Known targets. ``simulator`` is IonQ's free cloud simulator ("Free of cost", Azure
#: Quantum IonQ provider page); its circuits are compiled for Aria unless told otherwise.
TARGETS: dict[str, TargetFacts] = {
    "simulator": TargetFacts("aria", {}, None, "free; run time not estimated"),
    "qpu.aria-1": TargetFacts(
        "aria", {"gate-shot": ARIA_PRICE, "Braket": ARIA_BRAKET}, ARIA_GATE_TIMES
    ),
    "qpu.aria-2": TargetFacts(
        "aria", {"gate-shot": ARIA_PRICE, "Braket": ARIA_BRAKET}, ARIA_GATE_TIMES
    ),
    "qpu.forte-1": TargetFacts(
        "forte",
        {"Braket": FORTE_BRAKET},
        FORTE_GATE_TIMES,
        "no gate-shot list price found; timing assumed equal to Aria's",
    ),
}
DEFAULT_TARGETS = tuple(TARGETS)


# ----------------------------------------------------------------- estimates


@dataclasses.dataclass(frozen=True)
class TargetEstimate:
    """One target's estimate for a workload.

    ``one_qubit`` / ``two_qubit``: native gates summed over all circuits (one shot each);
    ``costs``: market name -> USD for the whole workload (``{}``: free); ``seconds``:
    execution time (None where not estimated).
    """

    target: str
    gateset: str
    circuits: int
    shots: int
    one_qubit: int
    two_qubit: int
    costs: dict
    seconds: float | None
    note: str

    @property
    def total_shots(self) -> int:
        return self.circuits * self.shots

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "total_shots": self.total_shots}


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Estimates of one workload on several targets (see :func:`estimate_counts`)."""

    targets: tuple[TargetEstimate, ...]

    def as_dict(self) -> dict:
        return {
            "targets": [t.as_dict() for t in self.targets],
            "sources": sources([t.target for t in self.targets]),
        }

    def table(self) -> str:
        """A Markdown table: one row per target and market."""
        lines = [
            "| target | gateset | circuits | shots / circuit | native 1q / 2q gates "
            "per circuit | price list | cost (USD) | QPU time |",
            "|---|---|---:|---:|---:|---|---:|---:|",
        ]
        for t in self.targets:
            per = f"{t.one_qubit / t.circuits:.0f} / {t.two_qubit / t.circuits:.0f}"
            time_text = "n/a" if t.seconds is None else _duration(t.seconds)
            markets = t.costs.items() or [("free", 0.0)]
            for market, cost in markets:
                lines.append(
                    f"| {t.target} | {t.gateset} | {t.circuits:,} | {t.shots:,} | {per} | "
                    f"{market} | {cost:,.2f} | {time_text} |"
                )
        return "\n".join(lines)


def sources(targets: Iterable[str]) -> list[str]:
    """The sources of the figures used for ``targets`` (for reports)."""
    out: list[str] = []
    for name in targets:
        facts = TARGETS[name]
        for item in [*facts.prices.values(), facts.gate_times]:
            if item is not None and item.source not in out:
                out.append(item.source)
    return out


def estimate_counts(
    counts: dict[str, Sequence[tuple[int, int]]], shots: int, targets=DEFAULT_TARGETS
) -> Estimate:
    """Estimates from native gate counts.

    Args:
        counts: gateset (``aria`` / ``forte``) -> one (one-qubit, two-qubit) native gate
            count per circuit (a workload's circuits compiled for that gateset).
        shots: shots per circuit.
        targets: target names (keys of :data:`TARGETS`).
    """
    grouped = {}
    for gateset, rows in counts.items():
        array = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
        unique, multiplicity = np.unique(array, axis=0, return_counts=True)
        grouped[gateset] = [((int(a), int(b)), int(m)) for (a, b), m in zip(unique, multiplicity)]
    return _estimate(grouped, shots, targets)


def _estimate(grouped: dict, shots: int, targets) -> Estimate:
    """``grouped``: gateset -> [((one-qubit, two-qubit), number of such circuits), ...]."""
    check_int(shots, "shots", 1)
    rows = []
    for name in targets:
        if name not in TARGETS:
            raise ValueError(f"targets: unknown target {name!r}; known: {list(TARGETS)}")
        facts = TARGETS[name]
        if facts.gateset not in grouped:
            raise ValueError(f"counts: no {facts.gateset} gate counts for target {name!r}")
        groups = grouped[facts.gateset]
        costs = {
            market: float(sum(m * price.cost(a, b, shots) for (a, b), m in groups))
            for market, price in facts.prices.items()
        }
        seconds = None
        if facts.gate_times is not None:
            seconds = float(sum(m * facts.gate_times.seconds(a, b, shots) for (a, b), m in groups))
        rows.append(
            TargetEstimate(
                target=name,
                gateset=facts.gateset,
                circuits=sum(m for _, m in groups),
                shots=shots,
                one_qubit=sum(m * a for (a, _), m in groups),
                two_qubit=sum(m * b for (_, b), m in groups),
                costs=costs,
                seconds=seconds,
                note=facts.note,
            )
        )
    return Estimate(tuple(rows))


def native_counts(circuits: Iterable[cirq.Circuit], gateset: str) -> list[tuple[int, int]]:
    """(one-qubit, two-qubit) native gate counts of each circuit compiled for ``gateset``."""
    out = []
    for circuit in circuits:
        _, report = compile_with_report(circuit, gateset, verify=False)
        out.append((report.after.one_qubit, report.after.two_qubit))
    return out


def estimate_circuits(
    circuits: Sequence[cirq.Circuit], shots: int, targets=DEFAULT_TARGETS
) -> Estimate:
    """Estimates for running each of ``circuits`` ``shots`` times (every circuit compiled)."""
    circuits = list(circuits)
    if not circuits:
        raise ValueError("circuits: expected at least one circuit")
    gatesets = {TARGETS[t].gateset for t in targets if t in TARGETS}
    counts = {g: native_counts(circuits, g) for g in sorted(gatesets)}
    return estimate_counts(counts, shots, targets)


def estimate_model(
    model,
    n_circuits: int,
    shots: int,
    targets=DEFAULT_TARGETS,
    samples: int = 3,
    seed: int = 0,
) -> Estimate:
    """Estimates for ``n_circuits`` circuits of a ``QubitModel``, ``shots`` each.

    Native gate counts depend on the structure for generic angles: ``samples`` circuits
    with random features and parameters are compiled per gateset and the largest count is
    charged for every circuit. Exactly special angles (0, pi/2, pi, ...) can change a
    qubit's count by a gate or two either way (the virtual-Z compiler picks each run's
    shortest form); trained angles are generic.
    """
    check_int(n_circuits, "n_circuits", 1)
    rng = np.random.default_rng(seed)
    circuits = [sample_circuit(model, rng) for _ in range(samples)]
    gatesets = sorted({TARGETS[t].gateset for t in targets if t in TARGETS})
    grouped = {}
    for gateset in gatesets:
        worst = np.max(np.asarray(native_counts(circuits, gateset)), axis=0)
        grouped[gateset] = [((int(worst[0]), int(worst[1])), n_circuits)]
    return _estimate(grouped, shots, targets)


def sample_circuit(model, rng: np.random.Generator) -> cirq.Circuit:
    """One measured circuit of ``model`` with random features and angles (uniform in
    [-pi, pi); normal features for amplitude encoding)."""
    if model.encoding == "amplitude":
        x = rng.normal(size=model.n_features)
    else:
        x = rng.uniform(-np.pi, np.pi, size=model.n_features)
    p = rng.uniform(-np.pi, np.pi, size=model.n_params)
    return model.to_cirq(x, p, measure=True)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"
