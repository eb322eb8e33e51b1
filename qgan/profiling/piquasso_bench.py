"""Optional third baseline: the same circuit on Piquasso's pure-Fock simulator with JAX.

Piquasso is not a dependency (``pip install -e ".[bench]"`` adds it). Its ``cutoff``
bounds the *total* photon number of all modes (states with n_0 + ... + n_{M-1} < cutoff),
not each mode's photon number as in Strawberry Fields and qgan, so at the same number
it simulates a smaller space; the note returned with the timing says so.
"""

from __future__ import annotations

import logging
import time

import numpy as np

log = logging.getLogger(__name__)

CUTOFF_NOTE = (
    "Piquasso's cutoff bounds the total photon number over all modes (n_0 + ... + n_M-1 < "
    "cutoff), not each mode's photon number as in SF and qgan: at the same cutoff it "
    "simulates a smaller state space ({pq_dim} amplitudes vs {sf_dim})"
)


def run(n_modes, n_layers, cutoff, batch_size, repeats, rng, encoding, trainable, weights):
    """Time forward + gradient (jit(value_and_grad(vmap(...)))) on Piquasso/JAX.

    Returns ``(Timing or None, note)``; None with the reason when Piquasso or JAX is
    missing or fails on this circuit.
    """
    from qgan.profiling.engine_bench import _timing

    try:
        import jax
        import jax.numpy as jnp
        import piquasso as pq
    except ImportError as err:
        return None, f"piquasso baseline skipped: {err.name} is not installed"

    def sample_loss(params, z):
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
        state = simulator.execute(program).state
        total = state.mean_photon_number()
        for i in range(n_modes):
            total = total + state.mean_position(i)
        return total

    def batch_loss(params, z):
        return jnp.sum(jax.vmap(sample_loss, in_axes=(None, 0))(params, z))

    # Piquasso's parameter order: per layer, BS thetas then (s, d, k) per mode: the same
    # order as ``trainable``.
    params = jnp.asarray([float(weights[n].numpy()) for n in trainable])
    z = jnp.asarray(rng.normal(0.0, 0.5, (batch_size, n_modes)))
    step = jax.jit(jax.value_and_grad(batch_loss))
    try:
        start = time.perf_counter()
        jax.block_until_ready(step(params, z))
        first = time.perf_counter() - start
        for _ in range(3):
            jax.block_until_ready(step(params, z))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            jax.block_until_ready(step(params, z))
            times.append(time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001 - a third-party baseline failing is reported, not fatal
        log.warning("piquasso baseline failed: %s", err)
        return None, f"piquasso baseline failed: {type(err).__name__}: {err}"
    from math import comb

    note = CUTOFF_NOTE.format(pq_dim=comb(cutoff - 1 + n_modes, n_modes), sf_dim=cutoff**n_modes)
    return _timing(f"piquasso-jax (cutoff {cutoff}, total photons)", batch_size, first, times), note
