"""The default structure of a qubit circuit, defined once (TensorFlow-free).

``QubitModel``, ``QubitLayer``, the classifier config's ``model`` section and the
``qgan ionq`` options all take their defaults from :data:`STRUCTURE_DEFAULTS`: an 8-qubit,
depth-4 circuit with re-uploading angle encoding, a ring of CNOTs and a <Z_q> readout per
qubit (the shipped classifier configs' circuit).
"""

from __future__ import annotations

N_QUBITS = 8
DEPTH = 4
ENCODING = "reupload"
ENTANGLER = "cnot"
TOPOLOGY = "ring"
MEASUREMENT = "z"
#: basis settings measured (``QubitModel.bases``): Z on every qubit, one circuit per sample
BASES = ("Z",)

#: ``QubitModel``'s keyword arguments -> their defaults
STRUCTURE_DEFAULTS = {
    "n_qubits": N_QUBITS,
    "depth": DEPTH,
    "encoding": ENCODING,
    "entangler": ENTANGLER,
    "topology": TOPOLOGY,
    "measurement": MEASUREMENT,
}
