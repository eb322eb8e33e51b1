"""``qgan.qubit.cache``: ``ResultCache`` keys and statistics, ``CachedBackend`` batching.

Oracle: a counting backend (conftest) that records what reaches the wrapped backend, and
the wrapped backend's own answers.
"""

from __future__ import annotations

import numpy as np
import pytest

from qgan.qubit.backends import ExpectationBackend, SimulatorBackend
from qgan.qubit.cache import CachedBackend, ResultCache
from qgan.qubit.model import QubitModel

MODEL = QubitModel(2, 1, "angle", "cnot", "linear", "z_parity")


def rows(seed, n=4, model=MODEL):
    rng = np.random.default_rng(seed)
    return (
        rng.uniform(-np.pi, np.pi, (n, model.n_features)),
        rng.uniform(-np.pi, np.pi, (n, model.n_params)),
    )


class NoisyBackend:
    """A backend whose answers change on every call (fresh noise per run)."""

    name = "noisy"
    supports_autodiff = False
    cache_name = "noisy:test"

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def expectations(self, model, features, params, shots):
        return self.rng.uniform(-1, 1, (len(features), model.n_outputs))


class TestCachedBackend:
    def test_hits_and_misses(self, counting_backend):
        inner = counting_backend(SimulatorBackend(seed=1))
        cached = CachedBackend(inner)
        assert isinstance(cached, ExpectationBackend)
        x, p = rows(0)
        first = cached.expectations(MODEL, x, p, 100)
        assert cached.cache.stats() == {"hits": 0, "misses": 4, "hit_rate": 0.0, "entries": 4}
        again = cached.expectations(MODEL, x, p, 100)
        np.testing.assert_array_equal(again, first)
        np.testing.assert_array_equal(first, inner.backend.expectations(MODEL, x, p, 100))
        assert inner.calls == [(4, 100)], "the repeat must not reach the backend"
        assert (cached.cache.hits, cached.cache.misses) == (4, 4)
        assert cached.cache.hit_rate == 0.5

    def test_partial_hit_sends_misses_in_one_call(self, counting_backend):
        inner = counting_backend(SimulatorBackend())
        cached = CachedBackend(inner)
        x, p = rows(1, n=6)
        cached.expectations(MODEL, x[:2], p[:2], None)
        out = cached.expectations(MODEL, x, p, None)  # rows 0, 1 known; 2..5 new
        assert inner.calls == [(2, None), (4, None)]
        np.testing.assert_allclose(out, SimulatorBackend().expectations(MODEL, x, p, None))
        assert (cached.cache.hits, cached.cache.misses) == (2, 6)

    def test_repeats_within_a_call_go_out_once(self, counting_backend):
        inner = counting_backend(NoisyBackend())
        cached = CachedBackend(inner)
        x, p = rows(2, n=2)
        xx, pp = x[[0, 1, 0, 0]], p[[0, 1, 0, 0]]
        out = cached.expectations(MODEL, xx, pp, 10)
        assert inner.calls == [(2, 10)]
        np.testing.assert_array_equal(out[0], out[2])
        np.testing.assert_array_equal(out[0], out[3])
        assert (cached.cache.hits, cached.cache.misses) == (2, 2)

    def test_shot_noise_is_cached(self):
        """Intended: a repeated circuit gets its first (noisy) estimate back."""
        cached = CachedBackend(NoisyBackend())
        x, p = rows(3)
        np.testing.assert_array_equal(
            cached.expectations(MODEL, x, p, 50), cached.expectations(MODEL, x, p, 50)
        )
        uncached = NoisyBackend()
        assert not np.array_equal(
            uncached.expectations(MODEL, x, p, 50), uncached.expectations(MODEL, x, p, 50)
        )

    def test_key_parts(self, counting_backend):
        """shots, structure, target and every bit of the numbers are part of the key."""
        cache = ResultCache()
        x, p = rows(4, n=1)
        inner = counting_backend(SimulatorBackend(seed=0))
        cached = CachedBackend(inner, cache)
        cached.expectations(MODEL, x, p, 10)
        cached.expectations(MODEL, x, p, 11)  # other shots
        cached.expectations(MODEL, x, p, None)
        other = QubitModel(2, 1, "angle", "cnot", "linear", "z")  # other structure
        cached.expectations(other, x, p, 10)
        cached.expectations(MODEL, np.nextafter(x, 10.0), p, 10)  # 1 ulp away
        cached.expectations(MODEL, x, np.nextafter(p, 10.0), 10)
        CachedBackend(SimulatorBackend(seed=1), cache).expectations(MODEL, x, p, 10)  # target
        assert cache.hits == 0 and cache.misses == 7 and len(cache) == 7
        cached.expectations(MODEL, x.astype(np.float32).astype(np.float64), p, 10)
        assert cache.misses == 8  # float32 rounding changes the bytes: a different circuit
        cached.expectations(MODEL, x.copy(), p.copy(), 10)
        assert cache.hits == 1

    def test_shared_params(self, counting_backend):
        inner = counting_backend(SimulatorBackend())
        cached = CachedBackend(inner)
        x, p = rows(5, n=3)
        cached.expectations(MODEL, x, p[0], None)
        cached.expectations(MODEL, x, np.tile(p[0], (3, 1)), None)
        assert inner.calls == [(3, None)]

    def test_lru_eviction_and_clear(self):
        cache = ResultCache(max_entries=2)
        cached = CachedBackend(SimulatorBackend(), cache)
        x, p = rows(6, n=3)
        cached.expectations(MODEL, x[:2], p[:2], None)
        cached.expectations(MODEL, x[:1], p[:1], None)  # row 0 becomes most recent
        cached.expectations(MODEL, x[2:], p[2:], None)  # evicts row 1
        assert len(cache) == 2
        hits = cache.hits
        cached.expectations(MODEL, x[:1], p[:1], None)
        assert cache.hits == hits + 1
        cached.expectations(MODEL, x[1:2], p[1:2], None)
        assert cache.hits == hits + 1  # row 1 was evicted: a miss
        cache.clear()
        assert cache.stats() == {"hits": 0, "misses": 0, "hit_rate": 0.0, "entries": 0}

    def test_forwards_identity(self):
        inner = SimulatorBackend(seed=3)
        cached = CachedBackend(inner)
        assert (cached.name, cached.supports_autodiff, cached.cache_name) == (
            inner.name,
            inner.supports_autodiff,
            inner.cache_name,
        )

    def test_bad_input(self, one_line_naming):
        with pytest.raises(ValueError) as err:
            ResultCache(max_entries=0)
        one_line_naming(err, "max_entries")
        with pytest.raises(ValueError) as err:
            CachedBackend(object())
        one_line_naming(err, "backend")
        with pytest.raises(ValueError) as err:
            CachedBackend(SimulatorBackend(), cache={})
        one_line_naming(err, "cache")
        with pytest.raises(ValueError) as err:
            CachedBackend(SimulatorBackend()).expectations(MODEL, *rows(0), shots=-1)
        one_line_naming(err, "shots")
