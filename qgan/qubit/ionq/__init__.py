"""IonQ target for qubit circuits: native-gate compilation (``compile``), jobs through
``cirq_ionq`` with multi-circuit batches, retries, time-outs and a resumable run directory
(``IonQBackend``), cost / time estimates before submission (``estimate_model``), and IonQ
API v0.4 options: a budget guard (``max_cost_usd``, ``IonQBudgetExceeded``), sessions,
debiasing and per-circuit gatesets."""

from qgan.qubit.ionq.backend import IonQBackend
from qgan.qubit.ionq.budget import CostEstimate, IonQBudgetExceeded
from qgan.qubit.ionq.compilation import CompilationError, compile, compile_with_report
from qgan.qubit.ionq.estimate import estimate_circuits, estimate_model
from qgan.qubit.ionq.jobs import IonQJobError, IonQJobTimeout, IonQRejected
from qgan.qubit.ionq.options import IonQOptions

__all__ = [
    "CompilationError",
    "CostEstimate",
    "IonQBackend",
    "IonQBudgetExceeded",
    "IonQJobError",
    "IonQJobTimeout",
    "IonQOptions",
    "IonQRejected",
    "compile",
    "compile_with_report",
    "estimate_circuits",
    "estimate_model",
]
