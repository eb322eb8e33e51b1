"""``profile(cfg, ...)``: the whole performance profile of a GAN config, as one dict.

Parts, all measured in the same call on the same machine:

1. ``step``: one training step per stage against the bare compiled step, and the
   generator's own forward + backward pass (:func:`qgan.profiling.step.profile_step`);
2. ``batch_scaling``: time per batch, per sample and samples per second over batch sizes;
3. ``sweep``: cutoff x layers: time per sample, peak memory, norm leakage (and, with
   ``quality``, the metrics of a short training run at each point);
4. ``sf_baseline``: the same circuit on Strawberry Fields' ``tf`` backend (batch mode and the
   per-sample loop), with the ratios;
5. ``efficiency``: useful floating-point work of the circuit step per second against the
   machine's complex matmul throughput, measured in the same run.

``targets`` (optional: the ``[profile]`` table of ``scripts/bench/targets.toml``, or any
TOML file with that table, read by :func:`load_targets`) checks target figures against these
measurements; without targets the result's ``targets`` list is empty.
"""

from __future__ import annotations

import logging
import time
import tomllib
from pathlib import Path

from tqdm.auto import tqdm

from qgan._machine import machine_info
from qgan._validate import check_int, check_int_list
from qgan.gan.config import RunConfig
from qgan.profiling import scaling, sf_baseline, step, throughput

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZES = (1, 4, 16, 64, 256, 1024)
DEFAULT_CUTOFFS = (3, 4, 5, 6)
DEFAULT_LAYERS = (1, 2, 3)

TARGET_KEYS = ("circuit", "generator_us_per_sample", "sf_speedup", "step_over_generator")
CIRCUIT_KEYS = ("n_modes", "cutoff", "n_layers", "batch")


def _distinct_sizes(name: str, values, minimum: int) -> tuple[int, ...]:
    """The non-empty list of ints ``values``, repeats dropped, order kept."""
    return tuple(dict.fromkeys(check_int_list(values, name, minimum)))


def profile(
    cfg: RunConfig,
    batch_sizes=DEFAULT_BATCH_SIZES,
    cutoffs=DEFAULT_CUTOFFS,
    layers=DEFAULT_LAYERS,
    repeats: int = 30,
    quality: bool = False,
    *,
    warmup: int = 3,
    quality_steps: int = 200,
    sf_repeats: int = 3,
    sf_loop_samples: int = 8,
    progress: bool = True,
    targets: dict | None = None,
) -> dict:
    """Measure every part of the profile of ``cfg`` (a CV generator config).

    ``batch_sizes``, ``cutoffs``, ``layers``: the batch-scaling and sweep grids.
    ``repeats`` timed calls per measurement after ``warmup`` untimed ones (medians and
    quartiles are reported); the SF baseline uses ``sf_repeats`` (its calls take seconds)
    and a per-sample loop over ``sf_loop_samples`` samples. ``quality``: also train
    ``quality_steps`` steps at each sweep point and report the metrics. ``targets``: the
    bounds to check (:func:`load_targets`); None checks none.

    Returns a JSON-ready dict with ``machine``, ``settings``, ``config``, ``step``,
    ``batch_scaling``, ``sweep``, ``sf_baseline``, ``efficiency``, ``targets`` and
    ``wall_time_s``.
    """
    if cfg.generator.kind != "cv":
        raise ValueError(f"generator.kind: qgan profile needs 'cv', got {cfg.generator.kind!r}")
    if targets is not None:
        targets = check_target_table(targets)
    if cfg.generator.backend != "compiled":
        raise ValueError(
            f"generator.backend: qgan profile needs 'compiled', got {cfg.generator.backend!r}"
        )
    batch_sizes = _distinct_sizes("batch_sizes", batch_sizes, 1)
    cutoffs = _distinct_sizes("cutoffs", cutoffs, 2)
    layers = _distinct_sizes("layers", layers, 0)
    repeats = check_int(repeats, "repeats", 1)
    warmup = check_int(warmup, "warmup", 0)
    quality_steps = check_int(quality_steps, "quality_steps", 1)
    sf_repeats = check_int(sf_repeats, "sf_repeats", 1)
    sf_loop_samples = check_int(sf_loop_samples, "sf_loop_samples", 1)
    start = time.perf_counter()
    batch = cfg.train.batch_size
    parts = ("step", "batch scaling", "cutoff x layers", "SF baseline", "efficiency")
    bar = tqdm(total=len(parts), disable=not progress, desc="profile", unit="part")
    result = {
        "machine": machine_info(),
        "settings": {
            "batch_sizes": list(batch_sizes),
            "cutoffs": list(cutoffs),
            "layers": list(layers),
            "repeats": repeats,
            "warmup": warmup,
            "quality": bool(quality),
            "quality_steps": quality_steps if quality else None,
            "sf_repeats": sf_repeats,
            "sf_loop_samples": sf_loop_samples,
        },
        "config": _config_summary(cfg),
    }
    try:
        bar.set_description("profile: step")
        result["step"] = _step(cfg, repeats, warmup)
        bar.update(1)
        bar.set_description("profile: batch scaling")
        result["batch_scaling"] = scaling.batch_scaling(
            cfg, batch_sizes, repeats, warmup, progress=progress
        )
        bar.update(1)
        bar.set_description("profile: cutoff x layers")
        result["sweep"] = scaling.cutoff_layer_sweep(
            cfg, cutoffs, layers, repeats, quality, quality_steps, warmup=warmup, progress=progress
        )
        bar.update(1)
        bar.set_description("profile: SF tf backend")
        result["sf_baseline"] = sf_baseline.sf_baseline(
            cfg,
            batch,
            sf_repeats,
            sf_loop_samples,
            compiled_repeats=repeats,
            warmup=warmup,
            progress=progress,
        )
        bar.update(1)
        bar.set_description("profile: efficiency")
        result["efficiency"] = throughput.efficiency(cfg, batch, repeats, warmup=warmup)
        bar.update(1)
    finally:
        bar.close()
    result["targets"] = [] if targets is None else check_targets(result, targets)
    result["wall_time_s"] = time.perf_counter() - start
    return result


def _step(cfg: RunConfig, repeats: int, warmup: int) -> dict:
    from qgan.gan.training import build

    model, _, _, _ = build(cfg)
    return step.profile_step(model, repeats=repeats, warmup=warmup)


def _config_summary(cfg: RunConfig) -> dict:
    g, t = cfg.generator, cfg.train
    return {
        "name": cfg.name,
        "n_modes": g.n_modes,
        "n_layers": g.n_layers,
        "cutoff": g.cutoff,
        "latent_dim": g.latent_dim,
        "encoding": g.encoding,
        "readout": list(g.readout),
        "dtype": g.dtype,
        "decoder": cfg.decoder.kind,
        "discriminator_hidden": list(cfg.discriminator.hidden),
        "batch": t.batch_size,
        "d_steps": t.d_steps,
        "loss": t.loss,
        "outcome_gradient": t.outcome_gradient,
    }


def check_target_table(targets: dict, source: str = "targets") -> dict:
    """``targets`` if it holds every key of :data:`TARGET_KEYS` (``circuit`` with
    :data:`CIRCUIT_KEYS`) with numbers, else a one-line ``ValueError`` naming ``source``."""
    missing = [k for k in TARGET_KEYS if k not in targets]
    circuit = targets.get("circuit", {})
    missing += [
        f"circuit.{k}" for k in CIRCUIT_KEYS if not isinstance(circuit, dict) or k not in circuit
    ]
    if missing:
        raise ValueError(f"{source}: the [profile] table lacks {', '.join(missing)}")
    for key in TARGET_KEYS[1:]:
        value = targets[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{source}: {key} must be a number, got {value!r}")
    return targets


def load_targets(path) -> dict:
    """The ``[profile]`` table of the TOML file ``path`` (e.g. ``scripts/bench/targets.toml``):
    ``circuit`` (``n_modes``, ``cutoff``, ``n_layers``, ``batch``: where the generator target
    applies), ``generator_us_per_sample`` (us), ``sf_speedup`` (x), ``step_over_generator``
    (x). Raises ``ValueError`` (one line) if the file or a key is missing."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"--targets: cannot read {path}: {err}") from None
    if "profile" not in data:
        raise ValueError(f"--targets: {path} has no [profile] table")
    return check_target_table(data["profile"], str(Path(path)))


def check_targets(result: dict, targets: dict) -> list[dict]:
    """``targets`` (:func:`load_targets`) against the measurements of ``result``.

    One row per target: ``name``, ``goal`` (text), ``bound``, ``op`` (``<=``/``>=``),
    ``measured``, ``unit``, ``passed`` (None where the target does not apply to this
    config) and ``note``.
    """
    cfg = result["config"]
    s = result["step"]
    here = {
        "n_modes": cfg["n_modes"],
        "cutoff": cfg["cutoff"],
        "n_layers": cfg["n_layers"],
        "batch": cfg["batch"],
    }
    applies = here == {k: targets["circuit"][k] for k in CIRCUIT_KEYS}
    circuit = ", ".join(f"{k} {v}" for k, v in here.items())

    def row(name, op, bound, measured, unit, note="", applicable=True):
        ok = measured <= bound if op == "<=" else measured >= bound
        return {
            "name": name,
            "op": op,
            "bound": bound,
            "measured": measured,
            "unit": unit,
            "passed": bool(ok) if applicable else None,
            "note": note,
        }

    return [
        row(
            "generator forward + backward per sample ({n_modes} modes, cutoff {cutoff}, "
            "{n_layers} layers, batch {batch})".format(**targets["circuit"]),
            "<=",
            targets["generator_us_per_sample"],
            s["generator"]["us_per_sample"],
            "us",
            note="" if applies else f"not applicable: this config has {circuit}",
            applicable=applies,
        ),
        row(
            "speed-up over SF's tf backend, batch mode, same circuit",
            ">=",
            targets["sf_speedup"],
            result["sf_baseline"]["ratio_batch"],
            "x",
        ),
        row(
            "full training step / generator forward + backward",
            "<=",
            targets["step_over_generator"],
            s["step_over_generator"],
            "x",
        ),
        row(
            "stage sum against the measured step (difference / step)",
            "<=",
            s["tolerance"],
            abs(s["overhead"]["share"]),
            "",
        ),
    ]
