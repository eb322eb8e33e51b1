"""Qubit circuits for classifier workloads (and the GAN): model, TF simulation, Cirq export."""

from qgan.qubit.model import QubitModel
from qgan.qubit.simulator import expectation_values, probabilities, simulate_state, trace_count
