"""Every shipped config in configs/ trains: a smoke run of each, shrunken to a few steps
(same generator kind, readouts, decoder, loss and data; fewer steps, smaller batches), with
every DESIGN.md metric in its final record."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qgan.gan.config import load_config
from qgan.gan.training import train

# GAN configs are those with a generator; classifier configs are tests/classify's.
CONFIGS = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "configs").glob("*.yaml")
    if "generator" in (yaml.safe_load(p.read_text()) or {})
)


def test_there_are_configs():
    names = {p.stem for p in CONFIGS}
    assert {"bimodal", "bimodal_classical", "ring8", "grid25", "moons"} <= names
    assert {"ring8_classical", "grid25_classical", "moons_classical"} <= names


ABLATIONS = [p for p in CONFIGS if p.stem.endswith("_classical")]


@pytest.mark.parametrize("path", ABLATIONS, ids=lambda p: p.stem)
def test_classical_ablation_matches_its_cv_config_but_for_the_generator(path):
    """``X_classical.yaml`` is ``X.yaml`` with the CV generator replaced by a classical one
    of comparable size (parameter count within 20 %): same data, decoder, discriminator,
    loss and schedule, so the two rows of a report differ in the generator alone."""
    from qgan.gan.model import build_generator

    twin = path.with_name(path.stem.removesuffix("_classical") + ".yaml")
    ablation, cv = load_config(path), load_config(twin)
    assert (ablation.generator.kind, cv.generator.kind) == ("classical", "cv")
    for section in ("data", "decoder", "discriminator", "train"):
        assert getattr(ablation, section) == getattr(cv, section), section
    sizes = [
        sum(int(v.shape.num_elements()) for v in build_generator(c).trainable_variables)
        for c in (ablation, cv)
    ]
    assert abs(sizes[0] - sizes[1]) <= 0.2 * sizes[1], sizes


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_config_trains_a_few_steps(path, tmp_path, design_metrics):
    shrink = {
        "train.steps": 2,
        "train.batch_size": 16,
        "train.eval_every": 2,
        "train.checkpoint_every": 2,
        "train.eval_samples": 32,
        "data.n_samples": 400,
        "output.dir": str(tmp_path),
        "output.tensorboard": False,
        "output.plots": False,
    }
    cfg = load_config(path, overrides=shrink)
    result = train(cfg, progress=False)
    metrics = result.metrics["metrics"]
    mixture_only, any_data = design_metrics
    expected = any_data + (mixture_only if cfg.data.kind != "moons" else ())
    assert set(expected) <= set(metrics)
    assert result.metrics["steps"] == 2
    assert (result.run_dir / "metrics.json").is_file()
