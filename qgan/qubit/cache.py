"""A result cache for expectation backends: never pay twice for the same circuit.

:class:`ResultCache` maps one circuit run - (``model.structure_key``, the bound features and
params as exact float64 bytes, ``shots``, the backend's ``cache_name``) - to its readouts.
:class:`CachedBackend` puts it in front of any ExpectationBackend: the rows of a call that
were seen before are answered from the cache, the others go to the backend in ONE call.

Results with shot noise are cached as they are: a repeated circuit gets the estimate of
its first run back, not a fresh one. That is intended - it is what a cache of paid
hardware results does - but it freezes that circuit's noise (e.g. SPSA repeating a
perturbation, or re-evaluating a fixed batch, sees the same estimate).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from qgan._validate import check_int
from qgan.qubit.backends import check_rows, check_shots


class ResultCache:
    """Readouts of circuit runs by exact key, with hit/miss statistics.

    Args:
        max_entries: keep at most this many results (least recently used dropped first);
            None: unbounded.
    """

    def __init__(self, max_entries: int | None = None):
        if max_entries is not None:
            check_int(max_entries, "max_entries", 1)
        self.max_entries = max_entries
        self._store: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(structure_key: str, features, params, shots, cache_name: str) -> tuple:
        """The key of one circuit run: features [n_features], params [n_params] (any float)."""
        x = np.ascontiguousarray(features, dtype=np.float64)
        p = np.ascontiguousarray(params, dtype=np.float64)
        return (structure_key, cache_name, shots, x.tobytes(), p.tobytes())

    def get(self, key: tuple):
        """The stored readouts (a copy) or None; counts a hit or a miss."""
        with self._lock:
            value = self._store.get(key)
            if value is None:
                self.misses += 1
                return None
            self.hits += 1
            self._store.move_to_end(key)
            return value.copy()

    def put(self, key: tuple, value) -> None:
        with self._lock:
            self._store[key] = np.array(value, dtype=np.float64)
            self._store.move_to_end(key)
            while self.max_entries is not None and len(self._store) > self.max_entries:
                self._store.popitem(last=False)

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """hits / lookups (0.0 before any lookup)."""
        return self.hits / self.lookups if self.lookups else 0.0

    def stats(self) -> dict:
        """{"hits", "misses", "hit_rate", "entries"}."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": self.hit_rate,
            "entries": len(self),
        }

    def clear(self) -> None:
        """Drop all results and reset the statistics."""
        with self._lock:
            self._store.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._store)

    def __repr__(self) -> str:
        return f"ResultCache({self.stats()})"


class CachedBackend:
    """An ExpectationBackend answering repeated circuits from a :class:`ResultCache`.

    Each row of a call is one lookup. Rows not found go to ``backend`` in one
    ``expectations`` call (a row repeated within the call is sent once and counts as a
    hit for its repeats). ``name``, ``supports_autodiff`` and ``cache_name`` are the
    wrapped backend's.
    """

    def __init__(self, backend, cache: ResultCache | None = None):
        for attr in ("name", "supports_autodiff", "cache_name", "expectations"):
            if not hasattr(backend, attr):
                raise ValueError(f"backend must be an ExpectationBackend (no {attr!r})")
        if cache is not None and not isinstance(cache, ResultCache):
            raise ValueError(f"cache must be a ResultCache, got {type(cache).__name__}")
        self.backend = backend
        self.cache = ResultCache() if cache is None else cache

    name = property(lambda self: self.backend.name)
    supports_autodiff = property(lambda self: self.backend.supports_autodiff)
    cache_name = property(lambda self: self.backend.cache_name)

    def __repr__(self) -> str:
        return f"CachedBackend({self.backend!r}, {self.cache!r})"

    def expectations(self, model, features, params, shots=None) -> np.ndarray:
        """Readouts [N, n_outputs] float64, from the cache where it has them."""
        shots = check_shots(shots)
        x, p = check_rows(model, features, params)
        out = np.empty((x.shape[0], model.n_outputs), dtype=np.float64)
        keys = [
            ResultCache.key(model.structure_key, x[i], p[i], shots, self.cache_name)
            for i in range(x.shape[0])
        ]
        pending: dict[tuple, list[int]] = {}
        for i, key in enumerate(keys):
            if key in pending:  # a repeat of a row already being sent
                pending[key].append(i)
                with self.cache._lock:
                    self.cache.hits += 1
                continue
            value = self.cache.get(key)
            if value is None:
                pending[key] = [i]
            else:
                out[i] = value
        if pending:
            first = [rows[0] for rows in pending.values()]
            result = np.asarray(
                self.backend.expectations(model, x[first], np.ascontiguousarray(p[first]), shots),
                dtype=np.float64,
            )
            for (key, rows), value in zip(pending.items(), result):
                self.cache.put(key, value)
                out[rows] = value
        return out
