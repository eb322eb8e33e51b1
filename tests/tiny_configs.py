"""Tiny configs for tests that start real runs in other processes (sweeps, the sweep
benchmark): shrunk copies of the shipped configs whose runs take a few seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def tiny_gan(folder: Path, name: str = "tiny", **data) -> Path:
    """configs/bimodal.yaml shrunk to a run of a few seconds (2 steps), written as
    ``folder/name.yaml`` with its runs under ``folder/runs``; ``data``: the data section."""
    cfg = yaml.safe_load((ROOT / "configs" / "bimodal.yaml").read_text())
    cfg["name"] = name
    cfg["generator"].update(n_modes=2, cutoff=3, n_layers=1, latent_dim=2, sample_modes=[0])
    cfg["train"].update(steps=2, batch_size=32, eval_every=2, checkpoint_every=2, eval_samples=64)
    cfg["data"] = data or {"kind": "bimodal", "n_samples": 300}
    cfg["output"] = {"dir": str(folder / "runs"), "tensorboard": False, "plots": False}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def diverging_gan(folder: Path, name: str = "diverges") -> Path:
    """A GAN config whose data file is valid points at +-1e30 (finite in float32, their
    squares are not): it validates, and its run fails at once (training stops on
    non-finite losses), a real failure on every attempt."""
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(1, 0.1, (150, 2)), rng.normal(-1, 0.1, (150, 2))])
    np.save(folder / "huge.npy", (points * 1e30).astype(np.float32))
    return tiny_gan(folder, name, kind="file", path="huge.npy", n_samples=300)


def tiny_classifier(folder: Path, name: str = "tinyclf") -> Path:
    """configs/digits_qubit.yaml shrunk to a run of a second or two."""
    cfg = yaml.safe_load((ROOT / "configs" / "digits_qubit.yaml").read_text())
    cfg["name"] = name
    cfg["data"]["n_samples"] = 100
    cfg["train"].update(epochs=1, batch_size=32)
    cfg["model"].update(n_qubits=4, depth=1)
    cfg["output"] = {"dir": str(folder / "runs"), "plots": False}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
