"""Specification of the configs x seeds report (``qgan.reports.sweep``) and of
``scripts/seed_sweep.py``'s seed and targets parsing: derived columns, targets by data kind
(the ``[gan.targets]`` table of scripts/bench/targets.toml, read here with tomllib), and a
report whose every row comes from the runs it is given."""

from __future__ import annotations

import json
import runpy
import tomllib
from pathlib import Path

import numpy as np
import pytest

from qgan.reports import sweep
from qgan.reports.sweep import derived, render, write_sweep_report

ROOT = Path(__file__).resolve().parents[2]
TARGETS_FILE = ROOT / "scripts" / "bench" / "targets.toml"
with open(TARGETS_FILE, "rb") as _f:
    GAN = tomllib.load(_f)["gan"]
TARGETS, PUBLISHED = GAN["targets"], GAN["published"]


def check_targets(row):
    return sweep.check_targets(row, TARGETS)


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
    text = render(rows, "python scripts/seed_sweep.py configs/bimodal.yaml", {"cpu": "X"}, TARGETS)
    assert "python scripts/seed_sweep.py configs/bimodal.yaml" in text
    assert "all targets met in **4 of 5** seeds" in text
    assert text.count("\n| bimodal | ") == 5
    assert text.count(" | 5/5 |") == 4 and text.count(" | 4/5 |") == 1


def test_published_figures_are_quoted_beside_their_kind():
    rows = [row(config="ring8", data="ring8")]
    text = render(rows, "cmd", {}, TARGETS, PUBLISHED)
    assert f"Published classical figures for ring8: {PUBLISHED['ring8']}." in text


def test_without_targets_there_is_no_targets_column_or_section():
    text = render([derived(row(), [0.5, 0.5])], "cmd", {"cpu": "X"})
    assert "## Targets" not in text and "targets met" not in text
    rule = next(line for line in text.splitlines() if line.startswith("|---|"))
    body = next(line for line in text.splitlines() if line.startswith("| bimodal |"))
    assert rule.count("|") == body.count("|")  # as many cells as the table has columns


def test_write_sweep_report_files(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    rng = np.random.default_rng(0)
    np.save(run / "generated.npy", rng.standard_normal((50, 2)).astype(np.float32))
    rows = [derived(row(run_dir=str(run)), [0.5, 0.5])]
    out = write_sweep_report(
        tmp_path / "rep",
        rows,
        "cmd",
        {"cpu": "X"},
        {"bimodal": rng.standard_normal((50, 2))},
        TARGETS,
    )
    assert out == tmp_path / "rep.md"
    assert (tmp_path / "rep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads((tmp_path / "rep.json").read_text())
    assert payload["runs"] == rows and payload["command"] == "cmd"
    assert payload["targets"] == TARGETS
    assert "(rep.png)" in out.read_text()
    assert not list(tmp_path.glob("*.tmp*"))


def test_seed_parsing():
    parse = runpy.run_path(str(ROOT / "scripts" / "seed_sweep.py"))["parse_seeds"]
    assert parse("0-4") == [0, 1, 2, 3, 4]
    assert parse("0,2,5") == [0, 2, 5]
    assert parse("1-2,7") == [1, 2, 7]
    with pytest.raises(SystemExit, match="--seeds"):
        parse("a-b")


def test_script_reads_the_targets_file(tmp_path):
    load = runpy.run_path(str(ROOT / "scripts" / "seed_sweep.py"))["load_gan_targets"]
    assert load(TARGETS_FILE) == (TARGETS, PUBLISHED)
    (tmp_path / "t.toml").write_text("[qubit]\nus_per_sample = 1\n")
    with pytest.raises(ValueError, match="gan.targets"):
        load(tmp_path / "t.toml")
