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
* a **measurement** of every qubit in the basis of its **basis setting** (``bases``: X, Y
  or Z per qubit; a basis change before the computational-basis measurement: ``H`` for X,
  ``S^dagger`` then ``H`` for Y (the unitary ``H S^dagger``), nothing for Z), read out as
  ``z`` (<Z_q> per qubit), ``parity``
  (<Z_0 Z_1 ... Z_{n-1}>), ``z_parity`` (both: n + 1 outputs) or ``z_zz`` (<Z_q> per qubit
  and <Z_a Z_b> for every pair a < b in lexicographic order: n + n (n - 1) / 2 outputs, from
  the same measured bitstrings, so no extra circuit). In a non-Z basis the readouts are
  those of the rotated frame: ``z`` gives <X_q> for a qubit measured in X, <Y_q> in Y, and
  ``parity`` / ``z_zz`` the matching Pauli products.
* **multi-basis readouts**: ``bases`` may hold several settings (e.g. ``("Z", "X")``, or
  per-qubit strings such as ``("ZZXY",)``); the readouts of setting k fill columns
  ``k * m .. (k + 1) * m - 1`` (m the readouts per setting). The simulator computes every
  setting from one state; hardware runs one circuit per setting (``n_settings`` circuits per
  evaluation), which is what ``QubitLayer``'s account counts.

Gate conventions are Cirq's: ``RY(a) = exp(-i a Y / 2)``, ``RZ(b) = exp(-i b Z / 2)``.
A basis setting is a string of one letter per qubit (qubit 0 first), or one letter for all
qubits; the default ``("Z",)`` is the plain Z measurement (``bases`` normalised to full
strings, e.g. ``("ZZZZ",)``).

Parameters are a flat vector of ``n_params = 2 * n_qubits * depth`` angles in the order
``params.reshape(depth, n_qubits, 2)[l, q] = (theta_lq, phi_lq)``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property

import numpy as np

from qgan._tensors import real_array
from qgan._validate import check_choice, check_int
from qgan.qubit.defaults import (
    BASES,
    DEPTH,
    ENCODING,
    ENTANGLER,
    MEASUREMENT,
    N_QUBITS,
    TOPOLOGY,
)

ENCODINGS = ("angle", "reupload", "amplitude")
ENTANGLERS = ("cnot", "ms", "zz", "none")
TOPOLOGIES = ("linear", "ring", "all_to_all")
MEASUREMENTS = ("z", "parity", "z_parity", "z_zz")
BASIS_LETTERS = ("X", "Y", "Z")
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
    bases: tuple[str, ...] = BASES

    def __post_init__(self):
        check_int(self.n_qubits, "n_qubits", 1, MAX_QUBITS)
        check_int(self.depth, "depth", 1)
        check_choice(self.encoding, "encoding", ENCODINGS)
        check_choice(self.entangler, "entangler", ENTANGLERS)
        check_choice(self.topology, "topology", TOPOLOGIES)
        check_choice(self.measurement, "measurement", MEASUREMENTS)
        object.__setattr__(self, "n_qubits", int(self.n_qubits))
        object.__setattr__(self, "depth", int(self.depth))
        object.__setattr__(self, "bases", normalize_bases(self.bases, self.n_qubits))

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
        """Readouts per evaluation: ``n_settings`` times the readouts per setting, n_qubits
        (z), 1 (parity), n_qubits + 1 (z_parity) or n_qubits (n_qubits + 1) / 2 (z_zz)."""
        return self.n_settings * self.outputs_per_setting

    @property
    def outputs_per_setting(self) -> int:
        """Readouts of one basis setting (see :attr:`n_outputs`)."""
        n = self.n_qubits
        return {"z": n, "parity": 1, "z_parity": n + 1, "z_zz": n * (n + 1) // 2}[self.measurement]

    @property
    def n_settings(self) -> int:
        """Basis settings measured: circuits per evaluation on hardware."""
        return len(self.bases)

    @property
    def plain_z(self) -> bool:
        """Whether the measurement is the single all-Z setting (no basis change)."""
        return self.bases == ("Z" * self.n_qubits,)

    def settings(self) -> tuple[QubitModel, ...]:
        """One single-setting model per basis setting, in readout order (what hardware
        runs: one circuit each)."""
        return tuple(replace(self, bases=(b,)) for b in self.bases)

    @property
    def structure_key(self) -> str:
        """A string naming the circuit structure (what a result cache keys on)."""
        return (
            f"qubit:n_qubits={self.n_qubits},depth={self.depth},encoding={self.encoding},"
            f"entangler={self.entangler},topology={self.topology},"
            f"measurement={self.measurement}"
            + ("" if self.plain_z else f",bases={'|'.join(self.bases)}")
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
        """[2**n, n_outputs] float64 of +-1: output k = sum_i prob_i * signs[i, k], prob the
        outcome probabilities of the (single) setting's measurement; a model of several
        settings has one outcome distribution per setting: take :meth:`settings`."""
        self._single("readout_signs")
        return self.setting_signs

    @cached_property
    def setting_signs(self) -> np.ndarray:
        """[2**n, outputs_per_setting] float64 of +-1: the readouts of one setting from its
        outcome probabilities (every setting reads its bits alike)."""
        n = self.n_qubits
        index = np.arange(2**n)
        bits = (index[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1  # [2**n, n], qubit q
        return _readouts(1.0 - 2.0 * bits, self.measurement)

    def outputs_from_samples(self, bits: np.ndarray) -> np.ndarray:
        """Readouts estimated from measured bitstrings.

        Args:
            bits: [S, n_qubits] of 0/1; bit j is qubit j (``LineQubit(j)``), 1 means |1>.

        Returns:
            [n_outputs] float64: <Z_j> = 1 - 2 * mean(bit j); parity = mean of prod_j Z_j
            (of the measured frame: <X_j> for a qubit measured in X). One setting only.
        """
        self._single("outputs_from_samples")
        bits = np.asarray(bits)
        if bits.ndim != 2 or bits.shape[1] != self.n_qubits or bits.shape[0] < 1:
            raise ValueError(
                f"bits must have shape [shots >= 1, {self.n_qubits}], got {list(bits.shape)}"
            )
        if not np.all((bits == 0) | (bits == 1)):
            raise ValueError("bits must hold only 0 and 1")
        return _readouts(1.0 - 2.0 * bits.astype(np.float64), self.measurement).mean(axis=0)

    def _single(self, what: str) -> None:
        if self.n_settings != 1:
            raise ValueError(
                f"{what}: a model with {self.n_settings} basis settings has one outcome "
                "distribution per setting; use model.settings()"
            )

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
    def to_cirq(self, features, params, measure: bool = False, setting: int = 0):
        """The circuit with bound numbers as a ``cirq.Circuit`` on ``LineQubit.range(n)``.

        Args:
            features: [n_features] float.
            params: [n_params] float.
            measure: append ``cirq.measure(*qubits, key="z")``.
            setting: which basis setting's circuit (index into ``bases``): its basis change
                (``H`` on X qubits, ``S**-1`` then ``H`` on Y qubits) ends the circuit, before
                the measurement; the plain Z setting adds nothing.
        """
        check_int(setting, "setting", 0, self.n_settings - 1)
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
        return model_circuit(self, x, p, measure, self.bases[setting])


def structure_of(source) -> dict:
    """The structure of a qubit circuit as ``QubitModel``'s keyword arguments.

    Reads ``n_qubits``, ``depth``, ``encoding``, ``entangler``, ``topology``,
    ``measurement`` and ``bases`` (default ``BASES`` where ``source`` has none) by attribute
    from ``source``: a :class:`QubitModel`, or any object with those names (a config
    section); the dict also fits ``QubitLayer``'s arguments.
    """
    out = {f.name: getattr(source, f.name) for f in fields(QubitModel) if f.name != "bases"}
    out["bases"] = tuple(getattr(source, "bases", BASES))
    return out


def normalize_bases(bases, n_qubits: int, name: str = "bases") -> tuple[str, ...]:
    """``bases`` as a tuple of upper-case strings of ``n_qubits`` letters X, Y, Z.

    A string is one setting (``"ZXY"``, or ``"X"`` for every qubit); a list or tuple holds
    settings, each a string (one letter for all qubits, or one per qubit) or a list of
    per-qubit letters. One-line ValueError naming ``name`` otherwise.
    """
    if isinstance(bases, str):
        bases = (bases,)
    if not isinstance(bases, (list, tuple)) or not bases:
        raise ValueError(f"{name} must be a non-empty list of basis settings, got {bases!r}")
    out = []
    for setting in bases:
        if isinstance(setting, (list, tuple)):
            setting = "".join(str(b) for b in setting)
        if not isinstance(setting, str):
            raise ValueError(f"{name}: a basis setting is a string of X, Y, Z, got {setting!r}")
        text = setting.upper()
        if len(text) == 1:
            text *= n_qubits
        if len(text) != n_qubits or set(text) - set(BASIS_LETTERS):
            raise ValueError(
                f"{name}: each setting must be one of X, Y, Z for all qubits or one letter per "
                f"qubit ({n_qubits}), got {setting!r}"
            )
        out.append(text)
    return tuple(out)


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
