"""``scripts/loss_eval.py``: trained runs re-evaluated under photon loss.

Oracle: the run's own final metrics (``metrics.json``, written by training's final
evaluation): re-evaluated at loss 0 they must come back equal, bit for bit (same weights,
latent stream, reference sample and ops). Under loss the generated points change, so a
metric must move.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from qgan.gan.config import load_config
from qgan.gan.training import train

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("loss_eval", ROOT / "scripts" / "loss_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY = {  # configs/bimodal.yaml shrunk to a run of a few seconds
    "generator.n_modes": 2,
    "generator.cutoff": 3,
    "generator.n_layers": 1,
    "generator.latent_dim": 2,
    "generator.sample_modes": [0],
    "train.steps": 8,
    "train.batch_size": 32,
    "train.eval_samples": 64,
    "data.n_samples": 500,
}


@pytest.fixture(scope="module")
def trials(tmp_path_factory):
    """A sweep record folder holding one finished lossless tiny run."""
    root = tmp_path_factory.mktemp("loss_eval")
    cfg = load_config(ROOT / "configs" / "bimodal.yaml", TINY | {"output.dir": str(root / "runs")})
    result = train(cfg, progress=False)
    folder = root / "sweep.trials"
    folder.mkdir()
    record = {
        "trial_id": "bimodal-s0-tiny",
        "config": "configs/bimodal.yaml",
        "name": "bimodal",
        "workload": "gan",
        "seed": 0,
        "overrides": {},
        "setting": "-",
        "status": "ok",
        "run_dir": str(result.run_dir),
        "data": "bimodal",
        "generator": "cv",
        "steps": 8,
        "metrics": result.metrics,
    }
    (folder / "bimodal-s0-tiny.json").write_text(json.dumps(record))
    return folder, result


@pytest.mark.slow  # trains a run
def test_loss_zero_reproduces_the_runs_final_metrics(trials, tmp_path):
    folder, result = trials
    script = load_script()
    assert script.main([str(folder), "--loss", "0", "--out", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval.json").read_text())
    (record,) = report["trials"]
    saved = json.loads((Path(result.run_dir) / "metrics.json").read_text())["metrics"]
    for key in ("energy_distance", "mode_kl", "high_quality_fraction", "mmd", "leakage"):
        assert record["metrics"][key] == saved[key], key
    assert (tmp_path / "eval.md").read_text().count("generator.loss=0 (trained at 0)") >= 1


@pytest.mark.slow  # trains a run
def test_loss_moves_the_metrics_but_not_the_leakage(trials, tmp_path):
    """Loss at measurement changes the generated points; it maps photon number n to at most
    n, so the truncated state's trace, and hence its leakage, is unchanged."""
    folder, result = trials
    script = load_script()
    assert script.main([str(folder), "--loss", "0,0.2", "--out", str(tmp_path / "eval")]) == 0
    lossless, lossy = json.loads((tmp_path / "eval.json").read_text())["trials"]
    assert lossy["overrides"] == {"generator.loss": 0.2}
    assert lossy["metrics"]["energy_distance"] != lossless["metrics"]["energy_distance"]
    assert lossy["metrics"]["leakage"] == pytest.approx(lossless["metrics"]["leakage"], abs=1e-6)


def test_no_lossless_record_is_one_line(tmp_path, capsys):
    (tmp_path / "t").mkdir()
    script = load_script()
    with pytest.raises(SystemExit) as err:
        script.main([str(tmp_path / "t"), "--out", str(tmp_path / "eval")])
    assert err.value.code == 2
    assert "no finished lossless GAN trial records" in capsys.readouterr().err
