"""Specification of ``qgan.reports.run``: the ``report.md`` of a training run.

Checked on one finished tiny run (configs/bimodal.yaml shrunk to a few seconds): the
metrics table holds a row for every metric in ``metrics.json`` whose printed value is the
stored one (to the 4 significant digits it is printed with), the PNGs that exist are
linked (and only those), the config block is the run's resolved config, the objective
section names the penalties and the last logged loss terms, and a directory that is not a
finished run is refused with an error naming it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from qgan.gan.config import load_config
from qgan.gan.training import train
from qgan.reports.run import METRIC_ROWS, render_run_report, write_run_report

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "configs" / "bimodal.yaml"
PRINTED_REL = 5e-4  # floats are printed with 4 significant digits
PRINTED_ABS = 1e-12


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    overrides = {
        "generator.n_modes": 2,
        "generator.cutoff": 3,
        "generator.n_layers": 1,
        "generator.latent_dim": 2,
        "generator.sample_modes": [0],
        "train.steps": 4,
        "train.batch_size": 32,
        "train.eval_every": 2,
        "train.checkpoint_every": 2,
        "train.eval_samples": 64,
        "data.n_samples": 500,
        "output.dir": str(out),
    }
    return train(load_config(REFERENCE, overrides=overrides), progress=False).run_dir


def section(report: str, title: str) -> list[str]:
    lines = report.splitlines()
    start = lines.index(f"## {title}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def table(lines: list[str]) -> dict[str, str]:
    """Body rows (after the ``|---|---|`` rule) of the Markdown table in ``lines``."""
    rule = next(i for i, line in enumerate(lines) if re.fullmatch(r"\|[-|: ]+\|", line))
    rows = {}
    for line in lines[rule + 1 :]:
        match = re.fullmatch(r"\| (.+?) \| (.*) \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def parse(cell: str):
    """A printed value back: a number, a list of numbers, None ("-") or the text."""
    cell = cell.strip()
    if cell == "-":
        return None
    if cell.startswith("[") and cell.endswith("]"):
        return [parse(c) for c in cell[1:-1].split(",")]
    try:
        return float(cell)
    except ValueError:
        return cell


def assert_printed(printed, stored, key):
    if isinstance(stored, list):
        assert isinstance(printed, list) and len(printed) == len(stored), key
        for p, s in zip(printed, stored, strict=True):
            assert_printed(p, s, key)
    elif stored is None:
        assert printed is None, key
    else:
        assert printed == pytest.approx(stored, rel=PRINTED_REL, abs=PRINTED_ABS), key


def test_every_design_metric_has_a_labelled_row(design_metrics):
    assert set(sum(design_metrics, ())) <= {key for key, _ in METRIC_ROWS}


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_metrics_table_holds_every_metric_of_the_run_and_its_untrained_generator(
    run_dir, design_metrics
):
    """One row per final metric: the trained run's value, then the same metric with the
    generator's weights as built (the ablation; '-' where it has no such metric)."""
    report = render_run_report(run_dir)
    final = json.loads((run_dir / "metrics.json").read_text())
    metrics, untrained = final["metrics"], final["untrained_generator"]
    assert set(sum(design_metrics, ())) <= set(metrics)
    body = section(report, "Metrics")
    assert "| metric | trained | untrained generator |" in body
    rows = table(body)
    labels = dict(METRIC_ROWS)
    for key, stored in metrics.items():
        label = labels.get(key, key)
        assert label in rows, f"no row for {key}"
        trained_cell, untrained_cell = rows[label].split(" | ")
        assert_printed(parse(trained_cell), stored, key)
        assert_printed(parse(untrained_cell), untrained.get(key), key)
    assert len(rows) == len(metrics)


def test_summary_and_sizes(run_dir):
    report = render_run_report(run_dir)
    final = json.loads((run_dir / "metrics.json").read_text())
    assert report.startswith(f"# Run `{run_dir.name}`")
    assert f"Trained {final['steps']} steps" in report
    rows = table(section(report, "Time and size"))
    for part, count in final["n_params"].items():
        assert rows[f"parameters, {part}"] == str(count)


def test_existing_plots_are_linked(run_dir):
    report = render_run_report(run_dir)
    pngs = sorted(p.name for p in run_dir.glob("*.png"))
    assert {"samples.png", "losses.png"} <= set(pngs)
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert sorted(linked) == pngs
    for name in linked:
        assert (run_dir / name).is_file()


def test_no_links_without_plots(run_dir, tmp_path):
    bare = tmp_path / run_dir.name
    bare.mkdir()
    for name in ("config.yaml", "metrics.json"):
        shutil.copy(run_dir / name, bare / name)
    assert re.findall(r"!\[[^\]]*\]\(([^)]+)\)", render_run_report(bare)) == []


def test_config_block_is_the_resolved_config(run_dir):
    lines = section(render_run_report(run_dir), "Config")
    start = lines.index("```yaml") + 1
    block = "\n".join(lines[start : lines.index("```", start)])
    assert yaml.safe_load(block) == yaml.safe_load((run_dir / "config.yaml").read_text())


def test_write_run_report_writes_report_md(run_dir):
    path = write_run_report(run_dir)
    assert path == run_dir / "report.md"
    assert path.read_text() == render_run_report(run_dir)


def test_a_directory_that_is_not_a_run_is_named(tmp_path):
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))):
        render_run_report(tmp_path)


def test_an_unfinished_run_is_refused(run_dir, tmp_path):
    shutil.copy(run_dir / "config.yaml", tmp_path / "config.yaml")
    with pytest.raises(ValueError, match="metrics.json"):
        render_run_report(tmp_path)


def test_non_finite_and_missing_values_print_as_dash(run_dir, tmp_path):
    """A metric stored as null (undefined, e.g. R^2 of points on one spot) prints as "-"."""
    shutil.copy(run_dir / "config.yaml", tmp_path / "config.yaml")
    final = json.loads((run_dir / "metrics.json").read_text())
    final["metrics"]["linear_r2_generated"] = None
    (tmp_path / "metrics.json").write_text(json.dumps(final))
    rows = table(section(render_run_report(tmp_path), "Metrics"))
    trained, _ = rows[dict(METRIC_ROWS)["linear_r2_generated"]].split(" | ")
    assert trained == "-"
    assert np.isfinite(parse(rows[dict(METRIC_ROWS)["energy_distance"]].split(" | ")[0]))


def test_a_run_without_the_untrained_ablation_reports_one_value_column(run_dir, tmp_path):
    """Runs finished before the untrained-generator ablation existed keep their report."""
    shutil.copy(run_dir / "config.yaml", tmp_path / "config.yaml")
    final = json.loads((run_dir / "metrics.json").read_text())
    del final["untrained_generator"]
    (tmp_path / "metrics.json").write_text(json.dumps(final))
    body = section(render_run_report(tmp_path), "Metrics")
    assert "| metric | value |" in body
    rows = table(body)
    assert parse(rows[dict(METRIC_ROWS)["energy_distance"]]) == pytest.approx(
        final["metrics"]["energy_distance"], rel=PRINTED_REL, abs=PRINTED_ABS
    )


def test_objective_names_the_penalties_and_the_last_logged_terms(run_dir):
    """The report says what was optimised: the loss, the leakage penalty's weight (the
    config's), the outcome gradient, and the last logged window's loss terms (read back
    against losses.jsonl), the adversarial ones apart from the totals."""
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    lines = section(render_run_report(run_dir), "Objective")
    text = "\n".join(lines)
    assert f"+ {cfg['train']['leakage_penalty']:g} x mean norm leakage" in text
    assert f"outcome gradient `{cfg['train']['outcome_gradient']}`" in text
    last = json.loads((run_dir / "losses.jsonl").read_text().splitlines()[-1])
    rows = table(lines)
    for key, label in (
        ("g_adversarial", "generator, adversarial"),
        ("g_leakage_penalty", "generator, leakage penalty"),
        ("g_loss", "generator, total (optimised)"),
        ("d_adversarial", "discriminator, adversarial"),
    ):
        assert parse(rows[label]) == pytest.approx(last[key], rel=PRINTED_REL, abs=PRINTED_ABS)
    assert "discriminator, gradient penalty" not in rows  # none configured
