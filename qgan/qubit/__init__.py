"""Qubit circuits for classifier workloads (and the GAN): model, TF simulation, Cirq export,
expectation backends, hardware-faithful gradients, a result cache and a Keras layer."""

from qgan.qubit.backends import ExpectationBackend, SimulatorBackend
from qgan.qubit.cache import CachedBackend, ResultCache
from qgan.qubit.gradients import (
    SPSA_DEFAULTS,
    CircuitAccount,
    Gradients,
    Jacobians,
    SPSALearningRate,
    gradient_circuits_per_sample,
    parameter_shift,
    parameter_shift_jacobian,
    parameter_shift_tf,
    spsa,
    spsa_learning_rate,
    spsa_perturbation,
    spsa_tf,
)
from qgan.qubit.layer import QubitLayer
from qgan.qubit.model import QubitModel
from qgan.qubit.simulator import expectation_values, probabilities, simulate_state, trace_count
