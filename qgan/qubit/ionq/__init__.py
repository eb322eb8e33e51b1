"""IonQ target for qubit circuits: native-gate compilation (``compile``), jobs through
``cirq_ionq`` with multi-circuit batches, retries, time-outs and a resumable run directory
(``IonQBackend``), and cost / time estimates before submission (``estimate_model``)."""

from qgan.qubit.ionq.backend import IonQBackend
from qgan.qubit.ionq.compilation import CompilationError, compile, compile_with_report
from qgan.qubit.ionq.estimate import estimate_circuits, estimate_model
from qgan.qubit.ionq.jobs import IonQJobError, IonQJobTimeout, IonQRejected
from qgan.qubit.ionq.options import IonQOptions

__all__ = [
    "CompilationError",
    "IonQBackend",
    "IonQJobError",
    "IonQJobTimeout",
    "IonQOptions",
    "IonQRejected",
    "compile",
    "compile_with_report",
    "estimate_circuits",
    "estimate_model",
]
