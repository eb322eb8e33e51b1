"""Seed sweeps: the same config trained once per seed, one row of final metrics per run."""

from __future__ import annotations

import logging
from pathlib import Path

from tqdm.auto import tqdm

from qgan.gan.config import RunConfig
from qgan.gan.training import train

log = logging.getLogger("qgan.sweep")


def seed_sweep(cfg: RunConfig, seeds, output_dir=None, progress: bool = True) -> list[dict]:
    """Train ``cfg`` once per seed in ``seeds``; returns one row per run.

    A row is ``{"config", "data", "generator", "seed", "run_dir", "wall_time_s", "steps",
    **metrics}`` with the final metrics of :func:`qgan.gan.training.train` (the keys of
    :func:`qgan.metrics.evaluate`).
    ``output_dir`` overrides ``output.dir`` for the runs.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds: expected at least one seed")
    rows = []
    for seed in tqdm(seeds, desc=f"{cfg.name} seeds", disable=not progress, unit="run"):
        update = {"seed": int(seed)}
        if output_dir is not None:
            update["output"] = cfg.output.model_copy(update={"dir": str(output_dir)})
        run = train(cfg.model_copy(update=update), progress=False)
        final = run.metrics
        rows.append(
            {
                "config": cfg.name,
                "data": cfg.data.kind,
                "generator": cfg.generator.kind,
                "seed": int(seed),
                "run_dir": str(Path(run.run_dir)),
                "wall_time_s": final["wall_time_s"],
                "steps": final["steps"],
                **final["metrics"],
            }
        )
        log.info("%s seed %d: %s", cfg.name, seed, final["metrics"])
    return rows
