"""The generator's own circuit on Strawberry Fields' ``tf`` backend beside the compiled engine.

One step is the same work on every path: the generator's SF Program (``gen.program``) with
the same bound arguments (``encoding_scale * z`` on the encoding gates, the generator's
initial weights on the rest), the generator's readout features and per-sample norm
leakage, and the gradient of ``sum(features) + sum(leakage)`` w.r.t. the weights.

* ``compiled``: :func:`qgan.photonic.simulate` on this package's engine, in ``tf.function``.
* ``sf batch``: SF's ``tf`` backend in batch mode (``batch_size`` = the batch), eager
  (SF's engine cannot run inside ``tf.function``).
* ``sf loop``: one SF ``tf`` engine run per sample without batch mode, as the original
  research ran it; its step time is the median over samples.

The kets of the compiled engine and of SF's batch run are compared amplitude by
amplitude (the oracle check). SF is slow (about 20 ms per sample at 4 modes, cutoff 4,
2 layers): keep ``repeats`` and ``loop_samples`` small.
"""

from __future__ import annotations

import contextlib
import logging

import tensorflow as tf
from tqdm.auto import tqdm

from qgan._validate import check_int
from qgan.gan.config import RunConfig
from qgan.gan.model import build_generator
from qgan.generator.readout import read
from qgan.photonic import FockResult, simulate
from qgan.profiling.scaling import circuit_settings, profile_inputs, with_overrides
from qgan.profiling.timing import Clock, measure

log = logging.getLogger(__name__)

STEP = (
    "forward (circuit, readout features, norm leakage) + gradient of "
    "sum(features) + sum(leakage) w.r.t. the generator's gate arguments"
)


def circuit_summary(gen) -> dict:
    """Size and a one-line description of a :class:`~qgan.generator.CVGenerator` circuit."""
    gates = sum(1 for cmd in gen.program.circuit if type(cmd.op).__name__.endswith("gate"))
    return {
        "n_modes": gen.n_modes,
        "n_layers": gen.n_layers,
        "cutoff": gen.cutoff,
        "encoding": gen.encoding,
        "readout": list(gen.spec.names),
        "gates": gates,
        "trainable_parameters": len(gen.circuit.weight_names),
        "dtype": gen.complex_dtype.name,
        "description": (
            f"CVGenerator: {gen.latent_dim} {gen.encoding} encoding gates, then "
            f"{gen.n_layers} CV neural-network layer{'' if gen.n_layers == 1 else 's'} "
            f"(Killoran et al.) on {gen.n_modes} modes "
            f"at cutoff {gen.cutoff}: {gates} gates, {len(gen.circuit.weight_names)} trainable "
            f"gate arguments; readout {', '.join(gen.spec.names)}"
        ),
    }


class _SFCastGradientFilter(logging.Filter):
    """Drops TensorFlow's warning about casting a complex gradient to a real one: SF's tf
    backend casts real gate arguments to complex, and the gradient of that cast is the
    real part by definition, once per gate and call."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "You are casting an input of type complex" not in record.getMessage()


@contextlib.contextmanager
def _quiet_sf_gradients():
    logger, quiet = tf.get_logger(), _SFCastGradientFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _counted(step, bar):
    def counted():
        out = step()
        bar.update(1)
        return out

    return counted


def _loss(gen, result: FockResult, noise) -> tf.Tensor:
    features = read(result, gen.spec, noise)
    return tf.reduce_sum(features) + tf.cast(tf.reduce_sum(result.leakage()), features.dtype)


def sf_baseline(
    cfg: RunConfig,
    batch: int | None = None,
    repeats: int = 2,
    loop_samples: int = 8,
    *,
    compiled_repeats: int = 20,
    warmup: int = 3,
    clock: Clock | None = None,
    progress: bool = True,
) -> dict:
    """Time the generator step on SF's ``tf`` backend (batch and per-sample loop) and on
    the compiled engine, and compare their kets.

    ``batch`` defaults to ``train.batch_size``. SF's batch run is timed ``repeats`` times
    after one first call, reported apart: SF does not trace, but the first call of a
    process JIT-compiles (numba) The Walrus's gate-matrix functions, which takes seconds;
    the loop runs one untimed sample and then ``loop_samples`` timed ones; the
    compiled engine runs ``warmup`` untimed and ``compiled_repeats`` timed steps.

    Returns ``circuit`` (a one-line description), ``circuit_details``
    (:func:`circuit_summary`), ``step``, ``batch``, ``loop_samples``,
    ``sf_batch_us_per_sample``, ``sf_loop_us_per_sample``, ``compiled_us_per_sample``
    (medians), the first-call seconds and repeat counts of each, ``ratio_batch`` and
    ``ratio_loop`` (SF time per sample / compiled time per sample) and
    ``max_state_difference`` (max |ket_compiled - ket_sf| over the batch).
    """
    batch, repeats, warmup = circuit_settings(cfg, "the SF baseline", batch, repeats, warmup)
    loop_samples = check_int(loop_samples, "loop_samples", 1)
    compiled_repeats = check_int(compiled_repeats, "compiled_repeats", 1)
    # the compiled engine builds the generator; SF runs its program through simulate()
    gen = build_generator(with_overrides(cfg, {"generator.backend": "compiled"}))
    variables = [gen.weights_vector]
    z, noise = profile_inputs(gen, batch, cfg.seed)
    loop_z, loop_noise = profile_inputs(gen, loop_samples + 1, cfg.seed + 1)

    @tf.function(autograph=False)
    def compiled_step(z, noise):
        with tf.GradientTape() as tape:
            loss = _loss(gen, gen.state(z), noise)
        return loss, tape.gradient(loss, variables)

    def sf_step(z, noise, batched: bool):
        with tf.GradientTape() as tape:
            args = gen.circuit_arguments(z)
            if not batched:  # scalars: SF runs the single sample without batch mode
                args = {n: v[0] if v.shape.rank == 1 else v for n, v in args.items()}
            result = simulate(
                gen.program, gen.cutoff, args=args, backend="sf", dtype=gen.complex_dtype
            )
            if not batched:
                result = FockResult(result.ket()[None], gen.cutoff, gen.n_modes, batched=True)
            loss = _loss(gen, result, noise)
        return loss, tape.gradient(loss, variables), result.ket()

    log.info("compiled engine, batch %d", batch)
    compiled = measure(lambda: compiled_step(z, noise), compiled_repeats, warmup, clock)

    log.info("SF tf backend, batch mode, batch %d (%d repeats)", batch, repeats)
    ket_sf = []

    def sf_batch_step():
        loss, grads, ket = sf_step(z, noise, batched=True)
        ket_sf[:] = [ket]
        return loss, grads

    bar = tqdm(total=repeats + 1, desc="SF tf backend, batch", disable=not progress)
    with bar, _quiet_sf_gradients():
        sf_batch = measure(_counted(sf_batch_step, bar), repeats, 0, clock)

    log.info("SF tf backend, one engine run per sample (%d samples)", loop_samples)
    samples = iter(range(loop_samples + 1))

    def sf_sample_step():
        i = next(samples)
        one = None if loop_noise is None else loop_noise[i : i + 1]
        return sf_step(loop_z[i : i + 1], one, batched=False)[:2]

    bar = tqdm(total=loop_samples + 1, desc="SF tf backend, per sample", disable=not progress)
    with bar, _quiet_sf_gradients():
        sf_loop = measure(_counted(sf_sample_step, bar), loop_samples, 0, clock)

    ket_ours = gen.state(z).ket()
    difference = float(tf.reduce_max(tf.abs(ket_ours - tf.cast(ket_sf[0], ket_ours.dtype))))
    summary = circuit_summary(gen)
    compiled_us = compiled.us_per_sample(batch)
    sf_batch_us = sf_batch.us_per_sample(batch)
    sf_loop_us = sf_loop.us_per_sample(1)
    return {
        "circuit": summary["description"],
        "circuit_details": summary,
        "step": STEP,
        "batch": batch,
        "loop_samples": loop_samples,
        "sf_batch_us_per_sample": sf_batch_us,
        "sf_batch_first_call_s": sf_batch.first_call_s,
        "sf_batch_repeats": sf_batch.repeats,
        "sf_loop_us_per_sample": sf_loop_us,
        "sf_loop_first_call_s": sf_loop.first_call_s,
        "compiled_us_per_sample": compiled_us,
        "compiled_first_call_s": compiled.first_call_s,
        "compiled_repeats": compiled.repeats,
        "ratio_batch": sf_batch_us / compiled_us,
        "ratio_loop": sf_loop_us / compiled_us,
        "max_state_difference": difference,
    }


__all__ = ["sf_baseline", "circuit_summary", "STEP"]
