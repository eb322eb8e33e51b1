"""Specification of the sweep report (``qgan.reports.sweep``): derived columns, targets by
data kind (the ``[gan.targets]`` table of qgan/reports/targets.toml, read here with
tomllib), aggregation per (config, setting) with the mean, standard deviation and per-seed
values of every metric, failed trials listed, and the files written."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from qgan.reports import sweep
from qgan.reports.sweep import derived, groups, load_targets, render, write_sweep_report

ROOT = Path(__file__).resolve().parents[2]
TARGETS_FILE = ROOT / "qgan" / "reports" / "targets.toml"
with open(TARGETS_FILE, "rb") as _f:
    GAN = tomllib.load(_f)["gan"]
TARGETS, PUBLISHED = GAN["targets"], GAN["published"]


def check_targets(row):
    return sweep.check_targets(row, TARGETS)


def row(data="bimodal", **metrics):
    base = {
        "data": data,
        "wall_time_s": 60.0,
        "modes_captured": 2,
        "high_quality_fraction": 0.97,
        "mode_kl": 0.001,
        "mode_weights": [0.47, 0.53],
        "linear_r2_generated": 0.90,
        "linear_r2_real": 0.92,
        "energy_distance": 0.02,
    }
    return {**base, **metrics}


def record(seed=0, name="bimodal", setting="-", overrides=None, status="ok", **metrics):
    """A trial record as the store holds it."""
    out = {
        "trial_id": f"{name}-{setting}-s{seed}",
        "config": f"configs/{name}.yaml",
        "name": name,
        "workload": "gan",
        "seed": seed,
        "overrides": overrides or {},
        "setting": setting,
        "status": status,
    }
    if status == "ok":
        m = derived(row(**metrics), [0.5, 0.5])
        m.pop("data")
        out.update(data="bimodal", run_dir="", metrics=m, trial_wall_s=70.0)
    else:
        out.update(error="ValueError: boom", attempts=2)
    return out


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
    assert [k for k, ok in check_targets(off).items() if not ok] == ["mode_weight_error <= 0.05"]
    slow = derived(row(wall_time_s=121.0), [0.5, 0.5])
    assert [k for k, ok in check_targets(slow).items() if not ok] == ["wall_time_s <= 120.0"]
    assert check_targets(row(data="moons")) == {}


def test_a_config_with_its_own_targets_is_held_to_them_not_to_its_data_kinds():
    """ring8_free (anchor-free track) has its own table: PacGAN4's figures and 6 minutes,
    with no leakage bound, and its classical ablation is held to it; ring8_classical gets
    ring8's (the anchored track's), 3 minutes and leakage included."""
    ring = dict(
        data="ring8",
        modes_captured=8,
        high_quality_fraction=0.958,
        mode_kl=0.05,
        leakage=0.02,
        wall_time_s=200.0,
    )
    free = check_targets({**ring, "name": "ring8_free"})
    assert [k for k, ok in free.items() if not ok] == ["high_quality_fraction >= 0.959"]
    assert check_targets({**ring, "name": "ring8_free_classical"}) == free  # its twin's
    anchored = check_targets({**ring, "name": "ring8_classical"})
    assert [k for k, ok in anchored.items() if not ok] == [
        "high_quality_fraction >= 0.96",
        "mode_kl <= 0.04",
        "leakage <= 0.01",
        "wall_time_s <= 180.0",
    ]


def test_every_targets_table_names_a_shipped_config_or_a_data_kind():
    from qgan.gan.data import DATA_KINDS

    configs = {p.stem for p in (ROOT / "configs").glob("*.yaml")}
    assert set(TARGETS) <= configs | set(DATA_KINDS)


def test_the_package_targets_file_is_what_the_report_reads(tmp_path):
    assert load_targets() == (TARGETS, PUBLISHED)
    (tmp_path / "t.toml").write_text("[qubit]\nus_per_sample = 1\n")
    with pytest.raises(ValueError, match=r"gan.targets"):
        load_targets(tmp_path / "t.toml")


def test_groups_hold_mean_std_and_per_seed_values_and_count_targets():
    records = [record(s, energy_distance=0.01 * (s + 1)) for s in range(4)]
    records.append(record(4, mode_weights=[0.3, 0.7]))
    records.append(record(5, status="failed"))
    (g,) = groups(records, TARGETS)
    assert g["seeds"] == [0, 1, 2, 3, 4] and g["n_trials"] == 6
    assert g["failed"] == ["bimodal---s5"]
    e = g["metrics"]["energy_distance"]
    assert e["values"] == [0.01, 0.02, 0.03, 0.04, 0.02]
    assert e["mean"] == pytest.approx(np.mean(e["values"]))
    assert e["std"] == pytest.approx(np.std(e["values"], ddof=1))
    assert g["targets_met"] == 4


def test_render_lists_settings_trials_and_failures():
    records = [
        record(s, setting=f"train.steps={n}", overrides={"train.steps": n})
        for n in (5, 10)
        for s in (0, 1)
    ]
    records.append(
        record(2, setting="train.steps=10", overrides={"train.steps": 10}, status="failed")
    )
    text = render(records, "qgan sweep configs/bimodal.yaml", {"cpu": "X"}, TARGETS, PUBLISHED)
    assert "qgan sweep configs/bimodal.yaml" in text
    assert (
        "| bimodal | train.steps=5 | 2/2 |" in text and "| bimodal | train.steps=10 | 2/3 |" in text
    )
    assert text.count("\n| bimodal | train.steps=") == 2 + 4  # summary rows, trial rows
    assert "failed after 2 attempts: ValueError: boom" in text
    assert "all targets met in **2 of 2** seeds" in text
    summary = [ln for ln in text.splitlines() if ln.startswith("| config | setting | seeds")][0]
    body = next(ln for ln in text.splitlines() if ln.startswith("| bimodal | train.steps=5 | 2/2"))
    assert summary.count(" | ") == body.count(" | ")  # the \\| in a label splits no cell


def test_write_sweep_report_files(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    rng = np.random.default_rng(0)
    np.save(run / "generated.npy", rng.standard_normal((50, 2)).astype(np.float32))
    records = [
        {**record(s, setting=f"train.steps={n}", overrides={"train.steps": n}), "run_dir": str(run)}
        for n in (5, 10)
        for s in (0, 1)
    ]
    out = write_sweep_report(
        tmp_path / "rep",
        records,
        "cmd",
        {"cpu": "X"},
        swept=["train.steps"],
        targets=TARGETS,
        references={"bimodal": rng.standard_normal((50, 2))},
    )
    assert out == tmp_path / "rep.md"
    for png in ("rep.png", "rep_samples.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({png})" in out.read_text()
    payload = json.loads((tmp_path / "rep.json").read_text())
    assert payload["kind"] == "sweep" and payload["trials"] == records
    assert payload["metric"] == "high_quality_fraction" and payload["swept"] == ["train.steps"]
    assert [g["setting"] for g in payload["groups"]] == ["train.steps=5", "train.steps=10"]
    assert not list(tmp_path.glob("*.tmp*"))


def test_report_compare_accepts_sweep_reports(tmp_path):
    from qgan.cli import main
    from qgan.reports.compare import write_comparison

    for name, value in (("a", 0.9), ("b", 0.5)):
        records = [record(s, high_quality_fraction=value + 0.01 * s) for s in range(3)]
        write_sweep_report(tmp_path / name, records, f"qgan sweep {name}", {})
    md = write_comparison([tmp_path / "a.json", tmp_path / "b.json"], tmp_path / "cmp.md", "cmd")
    text = md.read_text()
    assert "| a | bimodal | - | 3/3 | 0.91 ± 0.01 |" in text
    assert "| b | bimodal | - | 3/3 | 0.51 ± 0.01 |" in text
    payload = json.loads((tmp_path / "cmp.json").read_text())
    assert [r["sweep"] for r in payload["rows"]] == ["a", "b"]
    # through the CLI; a run directory beside a sweep report is one line, exit status 2
    assert main(["--quiet", "report", "--compare", str(tmp_path / "a.json"),
                 str(tmp_path / "b.json"), "--out", str(tmp_path / "cli.md")]) == 0  # fmt: skip
    assert (tmp_path / "cli.md").is_file()
    assert main(["report", "--compare", str(tmp_path / "a.json"), str(tmp_path)]) == 2
    assert not (tmp_path / "reports").exists()
