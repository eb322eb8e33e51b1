"""Specification of the configs x seeds report (``qgan.reports.sweep``) and of
``scripts/seed_sweep.py``'s seed parsing: derived columns, targets by data kind, and a
report whose every row comes from the runs it is given."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from qgan.reports.sweep import TARGETS, check_targets, derived, render, write_sweep_report

ROOT = Path(__file__).resolve().parents[2]


def row(config="bimodal", data="bimodal", seed=0, **metrics):
    base = {
        "config": config,
        "data": data,
        "generator": "cv",
        "seed": seed,
        "run_dir": "",
        "wall_time_s": 60.0,
        "steps": 10,
        "modes_captured": 2,
        "high_quality_fraction": 0.97,
        "mode_kl": 0.001,
        "mode_weights": [0.47, 0.53],
        "linear_r2_generated": 0.90,
        "linear_r2_real": 0.92,
        "energy_distance": 0.02,
    }
    return {**base, **metrics}


def test_derived_columns():
    out = derived(row(), true_weights=[0.5, 0.5])
    assert out["mode_weight_error"] == pytest.approx(0.03)
    assert out["linear_r2_gap"] == pytest.approx(0.02)
    assert "mode_weight_error" not in derived(row(), true_weights=None)


def test_targets_follow_the_data_kind_and_each_bound():
    good = derived(row(), [0.5, 0.5])
    assert all(check_targets(good).values())
    assert len(check_targets(good)) == len(TARGETS["bimodal"])
    off = derived(row(mode_weights=[0.44, 0.56]), [0.5, 0.5])
    failed = [k for k, ok in check_targets(off).items() if not ok]
    assert failed == ["mode_weight_error <= 0.05"]
    slow = derived(row(wall_time_s=121.0), [0.5, 0.5])
    assert [k for k, ok in check_targets(slow).items() if not ok] == ["wall_time_s <= 120.0"]
    assert check_targets(row(data="moons")) == {}
    ring = row(config="ring8", data="ring8", modes_captured=7, high_quality_fraction=0.97)
    assert check_targets(ring)["modes_captured >= 8"] is False


def test_render_counts_seeds_that_meet_every_target():
    rows = [derived(row(seed=s), [0.5, 0.5]) for s in range(4)]
    rows.append(derived(row(seed=4, mode_weights=[0.3, 0.7]), [0.5, 0.5]))
    text = render(rows, "python scripts/seed_sweep.py configs/bimodal.yaml", {"cpu": "X"})
    assert "python scripts/seed_sweep.py configs/bimodal.yaml" in text
    assert "all targets met in **4 of 5** seeds" in text
    assert text.count("\n| bimodal | ") == 5


def test_write_sweep_report_files(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    rng = np.random.default_rng(0)
    np.save(run / "generated.npy", rng.standard_normal((50, 2)).astype(np.float32))
    rows = [derived(row(run_dir=str(run)), [0.5, 0.5])]
    out = write_sweep_report(
        tmp_path / "rep", rows, "cmd", {"cpu": "X"}, {"bimodal": rng.standard_normal((50, 2))}
    )
    assert out == tmp_path / "rep.md"
    assert (tmp_path / "rep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads((tmp_path / "rep.json").read_text())
    assert payload["runs"] == rows and payload["command"] == "cmd"
    assert "(rep.png)" in out.read_text()
    assert not list(tmp_path.glob("*.tmp*"))


def test_seed_parsing():
    parse = runpy.run_path(str(ROOT / "scripts" / "seed_sweep.py"))["parse_seeds"]
    assert parse("0-4") == [0, 1, 2, 3, 4]
    assert parse("0,2,5") == [0, 2, 5]
    assert parse("1-2,7") == [1, 2, 7]
    with pytest.raises(SystemExit, match="--seeds"):
        parse("a-b")
