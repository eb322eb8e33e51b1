"""IonQ target for qubit circuits: native-gate compilation (tested); job submission,
persistence and cost estimates are work in progress (issue 6)."""

from qgan.qubit.ionq.compilation import CompilationError, compile, compile_with_report

__all__ = ["CompilationError", "compile", "compile_with_report"]
