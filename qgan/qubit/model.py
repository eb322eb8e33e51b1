"""``QubitModel``: the structure of a hardware-efficient qubit circuit (no numbers bound).

A model circuit on ``n_qubits`` qubits (``cirq.LineQubit(0) .. (n-1)``, qubit 0 the most
significant bit of a state index, as in Cirq) is

* an **encoding** of a feature vector ``x``:
  ``angle``: ``RY(x_q)`` on qubit q, once (``n_features = n_qubits``);
  ``reupload``: ``RY(x_q)`` on qubit q at the start of every layer (``n_features = n_qubits``);
  ``amplitude``: the state ``x / |x|`` (``n_features = 2**n_qubits``, real amplitudes,
  prepared in Cirq by uniformly controlled RY rotations);
* ``depth`` layers of the hardware-efficient ansatz: ``RY(theta_lq)`` then ``RZ(phi_lq)``
  on every qubit (2 parameters per qubit per layer), then an **entangler** on the pairs of
  a **topology**: ``cnot`` (CNOT(a, b)), ``ms`` (Molmer-Sorensen ``exp(-i pi/4 X_a X_b)``,
  ``cirq.ms(pi/4)``) or ``zz`` (``exp(-i pi/4 Z_a Z_b)``, ``cirq.ZZPowGate(exponent=0.5,
  global_shift=-0.5)``) or ``none`` (no two-qubit gate: the no-entanglement ablation, a
  product state whose readouts are per-qubit functions); pairs ``linear`` (q, q+1),
  ``ring`` (linear plus (n-1, 0) for n >= 3) or ``all_to_all`` (every a < b, in
  lexicographic order);
* a **measurement** in the Z basis, read out as ``z`` (<Z_q> per qubit), ``parity``
  (<Z_0 Z_1 ... Z_{n-1}>), ``z_parity`` (both: n + 1 outputs) or ``z_zz`` (<Z_q> per qubit
  and <Z_a Z_b> for every pair a < b in lexicographic order: n + n (n - 1) / 2 outputs, from
  the same measured bitstrings, so no extra circuit).

Gate conventions are Cirq's: ``RY(a) = exp(-i a Y / 2)``, ``RZ(b) = exp(-i b Z / 2)``.
Parameters are a flat vector of ``n_params = 2 * n_qubits * depth`` angles in the order
``params.reshape(depth, n_qubits, 2)[l, q] = (theta_lq, phi_lq)``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from qgan._tensors import real_array
from qgan._validate import check_choice, check_int
from qgan.qubit.defaults import DEPTH, ENCODING, ENTANGLER, MEASUREMENT, N_QUBITS, TOPOLOGY

ENCODINGS = ("angle", "reupload", "amplitude")
ENTANGLERS = ("cnot", "ms", "zz", "none")
TOPOLOGIES = ("linear", "ring", "all_to_all")
MEASUREMENTS = ("z", "parity", "z_parity", "z_zz")
MAX_QUBITS = 20  # a [B, 2**n] state vector beyond this does not fit a workstation


@dataclass(frozen=True)
class QubitModel:
    """Structure of a hardware-efficient qubit circuit; see the module docstring.

    Defaults (:mod:`qgan.qubit.defaults`, shared with ``QubitLayer`` and the classifier
    config): 8 qubits, depth 4, ``reupload`` encoding, ``cnot`` entangler on a ``ring``,
    ``z`` readout.

    Frozen and hashable: equal structures are equal models (``structure_key`` names them).
    """

    n_qubits: int = N_QUBITS
    depth: int = DEPTH
    encoding: str = ENCODING
    entangler: str = ENTANGLER
    topology: str = TOPOLOGY
    measurement: str = MEASUREMENT

    def __post_init__(self):
        check_int(self.n_qubits, "n_qubits", 1, MAX_QUBITS)
        check_int(self.depth, "depth", 1)
        check_choice(self.encoding, "encoding", ENCODINGS)
        check_choice(self.entangler, "entangler", ENTANGLERS)
        check_choice(self.topology, "topology", TOPOLOGIES)
        check_choice(self.measurement, "measurement", MEASUREMENTS)
        object.__setattr__(self, "n_qubits", int(self.n_qubits))
        object.__setattr__(self, "depth", int(self.depth))

    # ------------------------------------------------------------------ sizes and names
    @property
    def n_features(self) -> int:
        """Length of one feature vector: n_qubits (angle, reupload) or 2**n_qubits."""
        return 2**self.n_qubits if self.encoding == "amplitude" else self.n_qubits

    @property
    def n_params(self) -> int:
        """Trainable angles: 2 per qubit per layer."""
        return 2 * self.n_qubits * self.depth

    @property
    def n_outputs(self) -> int:
        """Readouts per circuit: n_qubits (z), 1 (parity), n_qubits + 1 (z_parity) or
        n_qubits (n_qubits + 1) / 2 (z_zz)."""
        n = self.n_qubits
        return {"z": n, "parity": 1, "z_parity": n + 1, "z_zz": n * (n + 1) // 2}[self.measurement]

    @property
    def structure_key(self) -> str:
        """A string naming the circuit structure (what a result cache keys on)."""
        return (
            f"qubit:n_qubits={self.n_qubits},depth={self.depth},encoding={self.encoding},"
            f"entangler={self.entangler},topology={self.topology},"
            f"measurement={self.measurement}"
        )

    @property
    def n_uploads(self) -> int:
        """How many encoding gates act on each feature (the feature's frequency bound)."""
        return {"angle": 1, "reupload": self.depth, "amplitude": 0}[self.encoding]

    @cached_property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        """Entangled qubit pairs of one layer, in application order (none for the ``none``
        entangler)."""
        n = self.n_qubits
        if self.entangler == "none":
            return ()
        if self.topology == "all_to_all":
            return tuple((a, b) for a in range(n) for b in range(a + 1, n))
        linear = tuple((q, q + 1) for q in range(n - 1))
        if self.topology == "ring" and n >= 3:
            return linear + ((n - 1, 0),)
        return linear

    # ------------------------------------------------------------------ readout
    @cached_property
    def readout_signs(self) -> np.ndarray:
        """[2**n, n_outputs] float64 of +-1: output k = sum_i prob_i * signs[i, k]."""
        n = self.n_qubits
        index = np.arange(2**n)
        bits = (index[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1  # [2**n, n], qubit q
        return _readouts(1.0 - 2.0 * bits, self.measurement)

    def outputs_from_samples(self, bits: np.ndarray) -> np.ndarray:
        """Readouts estimated from measured bitstrings.

        Args:
            bits: [S, n_qubits] of 0/1; bit j is qubit j (``LineQubit(j)``), 1 means |1>.

        Returns:
            [n_outputs] float64: <Z_j> = 1 - 2 * mean(bit j); parity = mean of prod_j Z_j.
        """
        bits = np.asarray(bits)
        if bits.ndim != 2 or bits.shape[1] != self.n_qubits or bits.shape[0] < 1:
            raise ValueError(
                f"bits must have shape [shots >= 1, {self.n_qubits}], got {list(bits.shape)}"
            )
        if not np.all((bits == 0) | (bits == 1)):
            raise ValueError("bits must hold only 0 and 1")
        return _readouts(1.0 - 2.0 * bits.astype(np.float64), self.measurement).mean(axis=0)

    # ------------------------------------------------------------------ validation
    def check_features(self, features, name: str = "features") -> np.ndarray:
        """``features`` as float64 [N, n_features]; ValueError naming ``name`` if it is not."""
        x = _as_float_array(features, name)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"{name} must have shape [N, {self.n_features}] ({self.n_features} features "
                f"for {self.encoding} encoding on {self.n_qubits} qubits), got {list(x.shape)}"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if self.encoding == "amplitude" and np.any(np.all(x == 0, axis=1)):
            raise ValueError(f"{name}: amplitude encoding needs non-zero feature vectors")
        return x

    def check_params(self, params, name: str = "params", rows: int | None = None) -> np.ndarray:
        """``params`` as float64 [n_params] or [N, n_params] (N == ``rows`` if given)."""
        p = _as_float_array(params, name)
        ok = p.ndim == 1 and p.shape[0] == self.n_params
        ok = ok or (p.ndim == 2 and p.shape[1] == self.n_params and rows in (None, p.shape[0]))
        if not ok:
            rows_txt = "N" if rows is None else str(rows)
            raise ValueError(
                f"{name} must have shape [{self.n_params}] or [{rows_txt}, {self.n_params}], "
                f"got {list(p.shape)}"
            )
        if not np.all(np.isfinite(p)):
            raise ValueError(f"{name} contains NaN or infinite values")
        return p

    # ------------------------------------------------------------------ export
    def to_cirq(self, features, params, measure: bool = False):
        """The circuit with bound numbers as a ``cirq.Circuit`` on ``LineQubit.range(n)``.

        Args:
            features: [n_features] float.
            params: [n_params] float.
            measure: append ``cirq.measure(*qubits, key="z")``.
        """
        from qgan.qubit.cirq_export import model_circuit

        x = _as_float_array(features, "features")
        if x.ndim != 1 or x.shape[0] != self.n_features:
            raise ValueError(
                f"features must have shape [{self.n_features}] ({self.n_features} features for "
                f"{self.encoding} encoding on {self.n_qubits} qubits), got {list(x.shape)}"
            )
        x = self.check_features(x[None, :], "features")[0]
        p = self.check_params(params)
        if p.ndim != 1:
            raise ValueError(f"params must have shape [{self.n_params}], got {list(p.shape)}")
        return model_circuit(self, x, p, measure)


def structure_of(source) -> dict:
    """The structure of a qubit circuit as ``QubitModel``'s keyword arguments.

    Reads ``n_qubits``, ``depth``, ``encoding``, ``entangler``, ``topology`` and
    ``measurement`` by attribute from ``source``: a :class:`QubitModel`, or any object
    with those names (a config section); the dict also fits ``QubitLayer``'s arguments.
    """
    return {f.name: getattr(source, f.name) for f in fields(QubitModel)}


def _readouts(z: np.ndarray, measurement: str) -> np.ndarray:
    """Per-row readout values [R, n_outputs] of +-1 eigenvalues z [R, n] (row = a basis
    state or a measured bitstring): their mean over a distribution is the expectation."""
    n = z.shape[1]
    parity = np.prod(z, axis=1, keepdims=True)
    if measurement == "z_zz":
        a, b = np.triu_indices(n, k=1)
        return np.concatenate([z, z[:, a] * z[:, b]], axis=1)
    cols = {"z": [z], "parity": [parity], "z_parity": [z, parity]}[measurement]
    return np.concatenate(cols, axis=1)


def _as_float_array(value, name: str) -> np.ndarray:
    if hasattr(value, "numpy"):
        value = value.numpy()
    return real_array(name, value, allow_bool=True).astype(np.float64)
