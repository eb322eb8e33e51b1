"""Qubit circuits for classifier workloads (and the GAN): model, TF simulation, Cirq export,
expectation backends, hardware-faithful gradients, a result cache and a Keras layer.

Names are imported from their modules on first use (module ``__getattr__``), so that
TensorFlow-free modules such as :mod:`qgan.qubit.model` (which config validation reads)
import without TensorFlow.
"""

from qgan._lazy import lazy_exports

_EXPORTS = {
    "ExpectationBackend": "qgan.qubit.backends",
    "SimulatorBackend": "qgan.qubit.backends",
    "CachedBackend": "qgan.qubit.cache",
    "ResultCache": "qgan.qubit.cache",
    "SPSA_DEFAULTS": "qgan.qubit.gradients",
    "CircuitAccount": "qgan.qubit.gradients",
    "Gradients": "qgan.qubit.gradients",
    "Jacobians": "qgan.qubit.gradients",
    "SPSALearningRate": "qgan.qubit.gradients",
    "gradient_circuits_per_sample": "qgan.qubit.gradients",
    "parameter_shift": "qgan.qubit.gradients",
    "parameter_shift_jacobian": "qgan.qubit.gradients",
    "parameter_shift_tf": "qgan.qubit.gradients",
    "spsa": "qgan.qubit.gradients",
    "spsa_learning_rate": "qgan.qubit.gradients",
    "spsa_perturbation": "qgan.qubit.gradients",
    "spsa_tf": "qgan.qubit.gradients",
    "QubitLayer": "qgan.qubit.layer",
    "QubitModel": "qgan.qubit.model",
    "expectation_values": "qgan.qubit.simulator",
    "probabilities": "qgan.qubit.simulator",
    "simulate_state": "qgan.qubit.simulator",
    "trace_count": "qgan.qubit.simulator",
}
__all__ = list(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
