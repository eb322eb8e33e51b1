"""Optional third baseline: the same circuit on Piquasso's pure-Fock simulator with JAX.

Used by ``scripts/bench/engine.py``. Piquasso is not a dependency (``pip install -e
".[bench]"`` adds it). Its ``cutoff``
bounds the *total* photon number of all modes (states with n_0 + ... + n_{M-1} < cutoff),
not each mode's photon number as in Strawberry Fields and qgan, so at the same number
it simulates a smaller space; the note returned with the timing says so.
"""

from __future__ import annotations

import logging
from math import comb

import _common
import numpy as np

from qgan.profiling.timing import measure

log = logging.getLogger(__name__)

CUTOFF_NOTE = (
    "Piquasso's cutoff bounds the total photon number over all modes (n_0 + ... + n_M-1 < "
    "cutoff), not each mode's photon number as in SF and qgan: at the same cutoff it "
    "simulates a smaller state space ({pq_dim} amplitudes vs {sf_dim})"
)


def _imports():
    """``(jax, jnp, pq)``, or None with the reason when Piquasso or JAX is missing."""
    try:
        import jax
        import jax.numpy as jnp
        import piquasso as pq
    except ImportError as err:
        return None, f"piquasso baseline skipped: {err.name} is not installed"
    return (jax, jnp, pq), None


def _state_function(pq, n_modes, n_layers, cutoff):
    """``state(params, z)``: the benchmark circuit's Piquasso state for one sample."""

    def state(params, z):
        simulator = pq.PureFockSimulator(
            d=n_modes,
            config=pq.Config(cutoff=cutoff, dtype=np.float64, validate=False),
            connector=pq.JaxConnector(),
        )
        index = 0
        with pq.Program() as program:
            pq.Q() | pq.Vacuum()
            for i in range(n_modes):
                pq.Q(i) | pq.Displacement(r=z[i])
            for _ in range(n_layers):
                for i in range(n_modes - 1):
                    pq.Q(i, i + 1) | pq.Beamsplitter(theta=params[index], phi=0.0)
                    index += 1
                for i in range(n_modes):
                    pq.Q(i) | pq.Squeezing(r=params[index])
                    pq.Q(i) | pq.Displacement(r=params[index + 1])
                    pq.Q(i) | pq.Kerr(xi=params[index + 2])
                    index += 3
        return simulator.execute(program).state

    return state


def leakage(n_modes, n_layers, cutoff, weights, z) -> float:
    """Mean norm leakage ``1 - <psi|psi>`` over the samples ``z`` ``[B, n_modes]`` of the
    benchmark circuit on Piquasso at total-photon ``cutoff`` (None when Piquasso or JAX is
    missing)."""
    found, _ = _imports()
    if found is None:
        return None
    jax, jnp, pq = found
    state = _state_function(pq, n_modes, n_layers, cutoff)
    norms = jax.jit(jax.vmap(lambda p, zi: state(p, zi).norm, in_axes=(None, 0)))
    return float(1.0 - jnp.mean(norms(jnp.asarray(weights), jnp.asarray(z))))


def equal_leakage_cutoff(n_modes, n_layers, weights, z, target: float, start: int):
    """The smallest total-photon cutoff from ``start`` whose mean leakage on the samples
    ``z`` is at most ``target`` (the per-mode-cutoff engine's leakage on the same samples),
    with that leakage; ``(None, None)`` when Piquasso or JAX is missing. The search stops at
    ``n_modes * (start - 1) + 1``, the first total cutoff that holds every state of the
    per-mode cutoff ``start``."""
    last = n_modes * (start - 1) + 1
    cutoff = start
    while True:
        value = leakage(n_modes, n_layers, cutoff, weights, z)
        if value is None:
            return None, None
        log.info("piquasso total-photon cutoff %d: mean leakage %.3g", cutoff, value)
        if value <= target or cutoff == last:
            return cutoff, value
        cutoff += 1


def run(n_modes, n_layers, cutoff, batch_size, repeats, rng, weights, z=None):
    """Time forward + gradient (jit(value_and_grad(vmap(...)))) on Piquasso/JAX.

    ``weights``: the trainable values in the order of
    :func:`qgan.profiling.reference.reference_program`'s ``trainable`` names (per layer, the
    beamsplitter angles, then squeezing, displacement and Kerr per mode: Piquasso's order
    below); ``z``: the encoding ``[batch_size, n_modes]`` (drawn from ``rng`` when None).
    Returns ``(run fields or None, note)``; None with the reason when Piquasso or JAX is
    missing or fails on this circuit.
    """
    found, missing = _imports()
    if found is None:
        return None, missing
    jax, jnp, pq = found
    state = _state_function(pq, n_modes, n_layers, cutoff)

    def sample_loss(params, z):
        sample = state(params, z)
        total = sample.mean_photon_number()
        for i in range(n_modes):
            total = total + sample.mean_position(i)
        return total

    def batch_loss(params, z):
        return jnp.sum(jax.vmap(sample_loss, in_axes=(None, 0))(params, z))

    params = jnp.asarray(weights)
    if z is None:
        z = rng.normal(0.0, 0.5, (batch_size, n_modes))
    z = jnp.asarray(z)
    step = jax.jit(jax.value_and_grad(batch_loss))
    try:
        timing = measure(lambda: step(params, z), repeats, warmup=3)
    except Exception as err:  # noqa: BLE001 - a third-party baseline failing is reported, not fatal
        log.warning("piquasso baseline failed: %s", err)
        return None, f"piquasso baseline failed: {type(err).__name__}: {err}"
    note = CUTOFF_NOTE.format(pq_dim=comb(cutoff - 1 + n_modes, n_modes), sf_dim=cutoff**n_modes)
    backend = f"piquasso-jax (cutoff {cutoff}, total photons)"
    return {"backend": backend, **_common.timing_fields(timing, batch_size)}, note
