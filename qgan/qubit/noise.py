"""Offline noise rehearsal: exact density-matrix simulation of ``QubitModel`` circuits with
depolarising gate errors and readout error, as an ``ExpectationBackend``.

The noise model (``NoiseModel(p1, p2, readout)``) of a circuit run on a trapped-ion target:

* after each qubit's single-qubit rotation block of a layer (``RY(x_q) RY(theta) RZ(phi)``,
  which IonQ compiles to its native GPI/GPI2 gates with the RZ virtual), the one-qubit
  depolarising channel ``D1(rho) = (1 - p1) rho + p1/3 (X rho X + Y rho Y + Z rho Z)``
  (``cirq.depolarize(p1)``);
* after each two-qubit entangler gate on (a, b), the two-qubit depolarising channel
  ``D2(rho) = (1 - p2) rho + p2/15 sum_{P != II} P rho P`` (``cirq.depolarize(p2,
  n_qubits=2)``);
* before the measurement, a symmetric readout (bit-flip) error of probability ``readout``
  on every qubit (``cirq.bit_flip(readout)``): <Z_q> is multiplied by ``1 - 2 readout``.

Published figures are average gate fidelities F; of the channels above they are
F1 = 1 - 2 p1 / 3 and F2 = 1 - 4 p2 / 5 (F = (d F_process + 1) / (d + 1), F_process = 1 - p),
so ``p1 = 1.5 (1 - F1)``, ``p2 = 1.25 (1 - F2)``; ``readout = 1 - F_SPAM``.
:data:`NOISE_PRESETS` (easy to update, a dict of the fidelities):

* ``aria-1``: 1q 99.95 % (SPAM-corrected), 2q 99.6 %, SPAM 99.61 %: the "System fidelity"
  table of IonQ Aria on Microsoft's Azure Quantum IonQ provider page
  (https://learn.microsoft.com/azure/quantum/provider-ionq).
* ``forte-1``: 1q 99.98 %, 2q 99.6 %, SPAM 99.5 %: IonQ's published Forte figures
  (https://ionq.com/quantum-systems/forte; component benchmarks in J.-S. Chen et al.,
  "Benchmarking a trapped-ion quantum computer with 30 qubits", arXiv:2308.05071). These
  could not be checked against a stored copy when this was written: check them before
  relying on them (live figures: IonQ's ``GET /characterizations/backends/<backend>``).

The simulation is exact: the state of a batch is a density matrix ``[B, 2**n, 2**n]``
complex128 (float64 results); 8 qubits take 1 MiB per row. Expectations equal
``cirq.DensityMatrixSimulator`` on the same circuit and channels (tested to 1e-6).
With ``shots`` the readouts are estimated from bitstrings drawn from the noisy outcome
probabilities, seeded per circuit as :class:`~qgan.qubit.backends.SimulatorBackend`.

Example::

    backend = NoisyBackend("aria-1")
    y = backend.expectations(model, x, params, shots=None)  # [N, n_outputs] float64
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np

from qgan._validate import check_int
from qgan.qubit.backends import (
    check_prefix,
    check_rows,
    check_shots,
    prefix_model,
    sample_readouts,
    zz_signs,
)
from qgan.qubit.model import QubitModel

#: published average fidelities per target: 1q gate, 2q gate, state prep. and measurement
NOISE_PRESETS = {
    "aria-1": {"f1": 0.9995, "f2": 0.996, "spam": 0.9961},
    "forte-1": {"f1": 0.9998, "f2": 0.996, "spam": 0.995},
}
_MAX_BYTES = 256 * 2**20  # density matrices per chunk of rows


@dataclass(frozen=True)
class NoiseModel:
    """Depolarising probabilities ``p1`` (1q), ``p2`` (2q) and readout flip probability.

    ``target``: the preset's name (None for explicit rates). See the module docstring.
    """

    p1: float = 0.0
    p2: float = 0.0
    readout: float = 0.0
    target: str | None = None

    def __post_init__(self):
        for name, hi in (("p1", 0.75), ("p2", 15 / 16), ("readout", 0.5)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= hi:
                raise ValueError(f"noise.{name} must be a probability in [0, {hi:g}], got {v!r}")
            object.__setattr__(self, name, float(v))

    @classmethod
    def from_fidelities(cls, f1: float, f2: float, spam: float, target=None) -> NoiseModel:
        """Rates from average fidelities: p1 = 1.5 (1 - f1), p2 = 1.25 (1 - f2),
        readout = 1 - spam."""
        rates = (round(1.5 * (1 - f1), 12), round(1.25 * (1 - f2), 12), round(1 - spam, 12))
        return cls(*rates, target)

    @classmethod
    def parse(cls, spec, name: str = "backend.noise") -> NoiseModel:
        """A preset name (``aria-1``, ``forte-1``) or a dict of ``p1``, ``p2``, ``readout``."""
        if isinstance(spec, NoiseModel):
            return spec
        if isinstance(spec, str):
            if spec not in NOISE_PRESETS:
                raise ValueError(
                    f"{name}: unknown target {spec!r}; expected one of {sorted(NOISE_PRESETS)} "
                    "or {p1, p2, readout}"
                )
            return cls.from_fidelities(**NOISE_PRESETS[spec], target=spec)
        if isinstance(spec, dict):
            unknown = sorted(set(spec) - {"p1", "p2", "readout"})
            if unknown:
                raise ValueError(f"{name}: unknown keys {unknown}; expected p1, p2, readout")
            try:
                return cls(**spec)
            except ValueError as err:
                raise ValueError(f"{name}: {err}") from None
        raise ValueError(
            f"{name} must be a target name {sorted(NOISE_PRESETS)} or a dict {{p1, p2, "
            f"readout}}, got {type(spec).__name__}"
        )

    def as_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------ kernels


def _ry(a):
    c, s = np.cos(a / 2), np.sin(a / 2)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2).astype(np.complex128)


def _rz(b):
    e = np.exp(-0.5j * b)
    z = np.zeros_like(e)
    return np.stack([np.stack([e, z], -1), np.stack([z, np.conj(e)], -1)], -2)


def entangler_unitary(entangler: str) -> np.ndarray:
    """The 4 x 4 unitary of an entangler (qubit a the more significant bit), as Cirq's."""
    if entangler == "cnot":
        return np.array(
            [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=np.complex128
        )
    xx = np.kron([[0, 1], [1, 0]], [[0, 1], [1, 0]]).astype(np.complex128)
    zz = np.diag([1.0, -1.0, -1.0, 1.0]).astype(np.complex128)
    gen = {"ms": xx, "zz": zz}.get(entangler)
    if gen is None:
        raise ValueError(f"entangler must be one of ['cnot', 'ms', 'zz'], got {entangler!r}")
    return np.cos(np.pi / 4) * np.eye(4) - 1j * np.sin(np.pi / 4) * gen  # exp(-i pi/4 G)


def _apply(rho: np.ndarray, u: np.ndarray, qubits: tuple[int, ...], n: int) -> np.ndarray:
    """U rho U^dagger on ``qubits``; rho [B, 2]*2n tensor, u [B or 1, 2^k, 2^k]."""
    k = len(qubits)
    b = rho.shape[0]
    ut = u.reshape(u.shape[0], *([2] * (2 * k)))
    rows = [1 + q for q in qubits]
    cols = [1 + n + q for q in qubits]
    for axes, mat in ((rows, ut), (cols, np.conj(ut))):
        moved = np.moveaxis(rho, axes, list(range(1, 1 + k)))
        shape = moved.shape
        flat = moved.reshape(b, 2**k, -1)
        flat = np.matmul(mat.reshape(mat.shape[0], 2**k, 2**k), flat)
        rho = np.moveaxis(flat.reshape(shape), list(range(1, 1 + k)), axes)
    return rho


def _depolarize(rho: np.ndarray, p: float, qubits: tuple[int, ...], n: int) -> np.ndarray:
    """(1 - lam) rho + lam I/2^k (x) Tr_qubits rho, lam = p 4^k / (4^k - 1) (cirq's p)."""
    if p == 0.0:
        return rho
    k = len(qubits)
    lam = p * 4**k / (4**k - 1)
    rows = [1 + q for q in qubits]
    cols = [1 + n + q for q in qubits]
    front = list(range(1, 1 + 2 * k))
    moved = np.moveaxis(rho, rows + cols, front)
    shape = moved.shape
    m = moved.reshape(rho.shape[0], 2**k, 2**k, -1)
    trace = np.einsum("biir->br", m)
    out = (1 - lam) * m
    idx = np.arange(2**k)
    out[:, idx, idx, :] += (lam / 2**k) * trace[:, None, :]
    return np.moveaxis(out.reshape(shape), front, rows + cols)


class NoisyBackend:
    """Exact noisy simulation (density matrices) as an ``ExpectationBackend``.

    Args:
        noise: a :class:`NoiseModel`, a preset name (``"aria-1"``, ``"forte-1"``) or a dict
            ``{p1, p2, readout}``.
        seed: base seed of the shot sampling (as ``SimulatorBackend``).
    """

    name = "noisy_simulator"
    supports_autodiff = False

    def __init__(self, noise="aria-1", seed: int = 0):
        self.noise = NoiseModel.parse(noise, "noise")
        check_int(seed, "seed", 0)
        self.seed = int(seed)

    def __repr__(self) -> str:
        return f"NoisyBackend({self.noise}, seed={self.seed})"

    @property
    def cache_name(self) -> str:
        n = self.noise
        return f"noisy:p1={n.p1!r},p2={n.p2!r},readout={n.readout!r}:seed={self.seed}"

    def density_matrices(self, model: QubitModel, features, params) -> np.ndarray:
        """Final states [N, 2**n, 2**n] complex128 before the readout error."""
        x, p = check_rows(model, features, params)
        _check_model(model)
        d = 2**model.n_qubits
        chunk = max(1, _MAX_BYTES // (16 * d * d))
        parts = [
            self._run(model, x[i : i + chunk], p[i : i + chunk]) for i in range(0, len(x), chunk)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, d, d), np.complex128)

    def probabilities(self, model: QubitModel, features, params) -> np.ndarray:
        """Measured-outcome probabilities [N, 2**n] float64, readout error included."""
        x, p = check_rows(model, features, params)
        _check_model(model)
        d = 2**model.n_qubits
        chunk = max(1, _MAX_BYTES // (16 * d * d))
        out = []
        for i in range(0, len(x), chunk):
            rho = self._run(model, x[i : i + chunk], p[i : i + chunk])
            out.append(self._readout(np.real(np.einsum("bii->bi", rho)), model.n_qubits))
        return np.concatenate(out) if out else np.zeros((0, d))

    def expectations(self, model: QubitModel, features, params, shots=None) -> np.ndarray:
        """Readouts [N, n_outputs] float64: exact (shots None) or from ``shots`` draws."""
        shots = check_shots(shots)
        x, p = check_rows(model, features, params)
        if x.shape[0] == 0:
            return np.zeros((0, model.n_outputs))
        probs = np.clip(self.probabilities(model, x, p), 0.0, None)
        probs /= probs.sum(axis=1, keepdims=True)
        if shots is None:
            return probs @ model.readout_signs
        counts = np.empty_like(probs)
        for i in range(x.shape[0]):
            rng = np.random.default_rng(self._row_seed(model, x[i], p[i], shots))
            counts[i] = rng.multinomial(shots, probs[i])
        return counts @ model.readout_signs / shots

    def prefix_expectations(
        self, model: QubitModel, features, params, layers: int, unitaries, shots=None
    ) -> np.ndarray:
        """Readouts [N, n + n (n - 1) / 2] float64 (``z_zz`` order) of the prefix circuits
        of :meth:`qgan.qubit.backends.SimulatorBackend.prefix_expectations`, with this
        backend's noise: the ``layers`` complete layers as :meth:`expectations` runs them,
        then each qubit's gate ``unitaries[i, q]`` followed by the one-qubit depolarising
        channel (``p1``), then the readout error; exact or from ``shots`` draws."""
        shots = check_shots(shots)
        x, p, layers, u = check_prefix(model, features, params, layers, unitaries)
        _check_model(model)
        n, b = model.n_qubits, x.shape[0]
        d = 2**n
        rho = np.zeros((b, d, d), np.complex128)
        rho[:, 0, 0] = 1.0
        for depth in np.unique(layers[layers > 0]):
            rows = layers == depth
            sub = prefix_model(model, int(depth))
            rho[rows] = self._run(sub, x[rows], np.ascontiguousarray(p[rows, : sub.n_params]))
        rho = rho.reshape(b, *([2] * (2 * n)))
        for q in range(n):
            rho = _apply(rho, u[:, q], (q,), n)
            rho = _depolarize(rho, self.noise.p1, (q,), n)
        probs = self._readout(np.real(np.einsum("bii->bi", rho.reshape(b, d, d))), n)
        seeds = None
        if shots is not None:
            seeds = [self._row_seed(model, x[i], p[i], shots, extra=(layers[i], u[i]))
                     for i in range(b)]  # fmt: skip
        return sample_readouts(probs, zz_signs(n), shots, seeds)

    # ------------------------------------------------------------------ internals
    def _run(self, model: QubitModel, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        n, b, nz = model.n_qubits, x.shape[0], self.noise
        d = 2**n
        if model.encoding == "amplitude":
            psi = x / np.linalg.norm(x, axis=1, keepdims=True)
            rho = np.einsum("bi,bj->bij", psi, psi).astype(np.complex128)
        else:
            rho = np.zeros((b, d, d), np.complex128)
            rho[:, 0, 0] = 1.0
        rho = rho.reshape(b, *([2] * (2 * n)))
        angles = p.reshape(b, model.depth, n, 2)
        gate = entangler_unitary(model.entangler)[None] if model.pairs else None
        for layer in range(model.depth):
            for q in range(n):
                ry = angles[:, layer, q, 0]
                if model.encoding == "reupload" or (model.encoding == "angle" and layer == 0):
                    ry = ry + x[:, q]
                u = np.matmul(_rz(angles[:, layer, q, 1]), _ry(ry))
                rho = _apply(rho, u, (q,), n)
                rho = _depolarize(rho, nz.p1, (q,), n)
            for a, c in model.pairs:
                rho = _apply(rho, gate, (a, c), n)
                rho = _depolarize(rho, nz.p2, (a, c), n)
        return rho.reshape(b, d, d)

    def _readout(self, probs: np.ndarray, n: int) -> np.ndarray:
        r = self.noise.readout
        if r == 0.0:
            return probs
        t = probs.reshape(probs.shape[0], *([2] * n))
        flip = np.array([[1 - r, r], [r, 1 - r]])
        for q in range(n):
            t = np.moveaxis(np.tensordot(flip, np.moveaxis(t, 1 + q, 0), axes=1), 0, 1 + q)
        return t.reshape(probs.shape)

    def _row_seed(
        self, model: QubitModel, x: np.ndarray, p: np.ndarray, shots: int, extra=None
    ) -> int:
        digest = hashlib.sha256()
        if extra is not None:  # a prefix circuit: its layers and final gates
            digest.update(f"prefix:{extra[0]}".encode())
            digest.update(np.ascontiguousarray(extra[1], dtype=np.complex128).tobytes())
        for part in (str(self.seed), self.cache_name, model.structure_key, str(shots)):
            digest.update(part.encode())
        digest.update(np.ascontiguousarray(x, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(p, dtype=np.float64).tobytes())
        return int.from_bytes(digest.digest()[:8], "little")


def _check_model(model: QubitModel) -> None:
    for attr, plain in (("uploads", "same"), ("input_scaling", "none")):
        if getattr(model, attr, plain) != plain:
            raise ValueError(f"noise: {attr}={getattr(model, attr)!r} is not simulated with noise")
    if not getattr(model, "plain_z", True):  # the noisy circuits measure in Z only
        raise ValueError(
            f"noise: measurement bases {'|'.join(model.bases)} are not simulated with noise "
            "(only Z on every qubit)"
        )
