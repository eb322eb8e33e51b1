"""Specification of ``qgan.reports.compare`` and ``qgan.reports.kinds``: runs side by side.

Checked on real tiny runs (trained once per module): a CV GAN and its classical ablation
(configs/bimodal.yaml shrunk to a few steps), and a qubit classifier with its classical
counterpart (configs/digits_qubit.yaml shrunk to a few epochs). The comparison's metrics
table holds, per run column, the value in that run's own ``metrics.json`` (to the 4
significant digits it is printed with); its config-difference table lists exactly the
dotted keys whose values differ between the runs' ``config.yaml``; parameter counts and wall
times are the runs' own; the PNG and JSON twin exist; runs of different kinds, a single
run and directories that are not finished runs are refused with an error naming the
problem, and nothing is written then. The figure is inspected through its matplotlib
objects: a compact grid (less than a row of empty cells), the adversarial generator loss
compared (read back against each run's losses.jsonl), with a fallback to ``g_loss`` for runs
logged before the loss terms.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from qgan._plots import grid_shape, pyplot
from qgan.reports.compare import (
    MAX_COLUMNS,
    PANEL_SIZE,
    comparison_figure,
    config_differences,
    curves,
    default_output,
    read_runs,
    render_comparison,
    write_comparison,
)
from qgan.reports.kinds import CLASSIFIER, GAN, read_run, write_report
from qgan.reports.run import METRIC_ROWS, render_run_report

ROOT = Path(__file__).resolve().parents[2]
PRINTED_REL = 5e-4  # floats are printed with 4 significant digits
PRINTED_ABS = 1e-12
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

GAN_TINY = {
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
}
CLASSICAL_GENERATOR = {
    "name": "bimodal_classical",
    "generator.kind": "classical",
    "generator.n_outcomes": 2,
    "generator.hidden": [8],
}
CLASSIFIER_TINY = {"model.n_qubits": 2, "model.depth": 1, "train.epochs": 2, "data.n_samples": 200}


@pytest.fixture(scope="module")
def gan_runs(tmp_path_factory) -> list[Path]:
    """A tiny CV GAN run and its classical ablation (same data, decoder, schedule)."""
    from qgan.gan.config import load_config
    from qgan.gan.training import train

    out = tmp_path_factory.mktemp("gan")
    runs = []
    for extra in ({}, CLASSICAL_GENERATOR):
        overrides = {**GAN_TINY, "output.dir": str(out), **extra}
        cfg = load_config(ROOT / "configs" / "bimodal.yaml", overrides=overrides)
        runs.append(train(cfg, progress=False).run_dir)
    return runs


@pytest.fixture(scope="module")
def classifier_runs(tmp_path_factory) -> list[Path]:
    """A tiny qubit classifier run on the digits and its classical counterpart."""
    from qgan.classify.config import load_config
    from qgan.classify.training import classify

    out = tmp_path_factory.mktemp("classify")
    runs = []
    for extra in ({}, {"model.kind": "classical"}):
        overrides = {**CLASSIFIER_TINY, "output.dir": str(out), **extra}
        cfg = load_config(ROOT / "configs" / "digits_qubit.yaml", overrides=overrides)
        runs.append(classify(cfg, progress=False).run_dir)
    return runs


@pytest.fixture(scope="module")
def gan_comparison(gan_runs, tmp_path_factory) -> Path:
    return write_comparison(gan_runs, tmp_path_factory.mktemp("out") / "cv_vs_classical.md")


# --------------------------------------------------------------------------- helpers


def section(report: str, title: str) -> list[str]:
    lines = report.splitlines()
    start = lines.index(f"## {title}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def table(lines: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """``(column headers, {row label: cells})`` of the Markdown table in ``lines``."""
    rows = [line for line in lines if line.startswith("|")]
    split = [[c.strip() for c in line.strip("|").split(" | ")] for line in rows]
    header, body = split[0], split[2:]
    assert re.fullmatch(r"\|[-|: ]+\|", rows[1]), rows[1]
    return header[1:], {cells[0]: cells[1:] for cells in body}


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


def assert_printed(printed, stored, what):
    if isinstance(stored, list):
        assert isinstance(printed, list) and len(printed) == len(stored), what
        for p, s in zip(printed, stored):
            assert_printed(p, s, what)
    elif stored is None:
        assert printed is None, what
    else:
        assert printed == pytest.approx(stored, rel=PRINTED_REL, abs=PRINTED_ABS), what


def flat(mapping, prefix=""):
    """Test-local flattening of a nested config to dotted keys."""
    out = {}
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def final(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def config(run: Path) -> dict:
    return yaml.safe_load((run / "config.yaml").read_text())


# --------------------------------------------------------------------------- kinds


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_kind_is_read_from_the_run_files(gan_runs, classifier_runs):
    assert [read_run(r)[0] for r in gan_runs] == [GAN, GAN]
    assert [read_run(r)[0] for r in classifier_runs] == [CLASSIFIER, CLASSIFIER]


def test_a_folder_that_is_not_a_run_is_named(tmp_path):
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))):
        read_run(tmp_path)


def test_an_unfinished_run_is_refused(gan_runs, tmp_path):
    shutil.copy(gan_runs[0] / "config.yaml", tmp_path / "config.yaml")
    with pytest.raises(ValueError, match="metrics.json"):
        read_run(tmp_path)


def test_an_unknown_kind_of_run_is_refused(tmp_path):
    (tmp_path / "config.yaml").write_text("name: x\nseed: 0\n")
    (tmp_path / "metrics.json").write_text('{"loss": 1.0}')
    with pytest.raises(ValueError, match="unknown kind of run") as err:
        read_run(tmp_path)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("config_text", "metrics_text"),
    [("name: [unclosed", '{"accuracy": 1.0}'), ("- a list", '{"accuracy": 1.0}'), ("a: 1", "{")],
    ids=["bad yaml", "config not a mapping", "bad json"],
)
def test_unreadable_run_files_are_named(tmp_path, config_text, metrics_text):
    (tmp_path / "config.yaml").write_text(config_text)
    (tmp_path / "metrics.json").write_text(metrics_text)
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))) as err:
        read_run(tmp_path)
    assert "\n" not in str(err.value)


def test_write_report_of_a_gan_run_is_its_run_report(gan_runs):
    path = write_report(gan_runs[0])
    assert path == gan_runs[0] / "report.md"
    assert path.read_text() == render_run_report(gan_runs[0])


def test_classifier_report(classifier_runs):
    run = classifier_runs[0]
    record = final(run)
    text = write_report(run).read_text()
    assert text.startswith(f"# Run `{run.name}`")
    _, rows = table(section(text, "Metrics"))
    for key, label in (
        ("accuracy", "accuracy, validation"),
        ("train_accuracy", "accuracy, training split"),
    ):
        assert_printed(parse(rows[label][0]), record[key], key)
    _, matrix = table(section(text, "Confusion matrix"))
    names = record["class_names"]
    assert [[int(c) for c in matrix[n]] for n in names] == record["confusion_matrix"]
    _, sizes = table(section(text, "Time and size"))
    for part, count in record["n_params"].items():
        assert sizes[f"parameters, {part}"] == [str(count)]
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(linked) == sorted(p.name for p in run.glob("*.png"))


# --------------------------------------------------------------------------- comparison


def test_columns_are_the_runs(gan_runs, gan_comparison):
    text = gan_comparison.read_text()
    header, _ = table(section(text, "Metrics"))
    assert header == [f"`{r.name}`" for r in gan_runs]
    for run in gan_runs:
        assert f"`{run.name}`" in text.splitlines()[0]


def test_metrics_table_holds_each_runs_own_values(gan_runs, gan_comparison):
    _, rows = table(section(gan_comparison.read_text(), "Metrics"))
    labels = dict(METRIC_ROWS)
    keys = set()
    for column, run in enumerate(gan_runs):
        metrics = final(run)["metrics"]
        keys |= set(metrics)
        for key, stored in metrics.items():
            assert_printed(parse(rows[labels.get(key, key)][column]), stored, f"{run.name} {key}")
    assert len(rows) == len(keys)


def test_config_differences_are_exactly_the_differing_keys(gan_runs, gan_comparison):
    a, b = (flat(config(r)) for r in gan_runs)
    expected = {k for k in a.keys() | b.keys() if a.get(k, KeyError) != b.get(k, KeyError)}
    assert "generator.kind" in expected
    _, rows = table(section(gan_comparison.read_text(), "Config differences"))
    assert {k.strip("`") for k in rows} == expected
    assert rows["`generator.kind`"] == ["cv", "classical"]


def test_identical_configs_are_said_to_be_identical(gan_runs, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(gan_runs[0], copy, ignore=shutil.ignore_patterns("checkpoints", "tensorboard"))
    text = render_comparison(read_runs([gan_runs[0], copy]), tmp_path / "c.md")
    assert section(text, "Config differences") == ["", "The resolved configs are identical.", ""]


def test_parameter_counts_and_wall_times_are_each_runs_own(gan_runs, gan_comparison):
    _, rows = table(section(gan_comparison.read_text(), "Time and size"))
    for column, run in enumerate(gan_runs):
        record = final(run)
        for part, count in record["n_params"].items():
            assert rows[f"parameters, {part}"][column] == str(count)
        total = sum(record["n_params"].values())
        assert rows["parameters, total"][column] == str(total)
        assert_printed(parse(rows["wall time (s)"][column]), record["wall_time_s"], "wall")
        assert parse(rows["steps"][column]) == record["steps"]


def test_figure_and_json_twin(gan_runs, gan_comparison):
    text = gan_comparison.read_text()
    (figure,) = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert figure == gan_comparison.with_suffix(".png").name
    assert (gan_comparison.parent / figure).read_bytes()[:8] == PNG_MAGIC
    payload = json.loads(gan_comparison.with_suffix(".json").read_text())
    assert payload["kind"] == "gan"
    assert [r["metrics"] for r in payload["runs"]] == [final(r)["metrics"] for r in gan_runs]
    assert [r["params"] for r in payload["runs"]] == [final(r)["n_params"] for r in gan_runs]
    assert "generator.kind" in payload["config_differences"]
    assert not list(gan_comparison.parent.glob(".*tmp"))


def test_run_links_resolve_from_the_report(gan_runs, gan_comparison):
    links = re.findall(r"\[run directory\]\(([^)]+)\)", gan_comparison.read_text())
    resolved = [(gan_comparison.parent / link).resolve() for link in links]
    assert resolved == [r.resolve() for r in gan_runs]


def test_runs_without_plots_get_no_figure(gan_runs, tmp_path):
    bare = []
    for run in gan_runs:
        (tmp_path / run.name).mkdir()
        for name in ("config.yaml", "metrics.json"):
            shutil.copy(run / name, tmp_path / run.name / name)
        bare.append(tmp_path / run.name)
    out = write_comparison(bare, tmp_path / "bare.md")
    assert "## Plots" not in out.read_text()
    assert not out.with_suffix(".png").exists()


def test_classifier_runs_compare(classifier_runs, tmp_path):
    out = write_comparison(classifier_runs, tmp_path / "clf.md")
    text = out.read_text()
    _, metrics = table(section(text, "Metrics"))
    _, sizes = table(section(text, "Time and size"))
    _, diffs = table(section(text, "Config differences"))
    assert diffs["`model.kind`"] == ["qubit", "classical"]
    for column, run in enumerate(classifier_runs):
        record = final(run)
        assert_printed(parse(metrics["accuracy, validation"][column]), record["accuracy"], "acc")
        assert parse(sizes["circuits executed"][column]) == record["circuits_executed"]
        for part, count in record["n_params"].items():
            assert sizes[f"parameters, {part}"][column] == str(count)
    assert list(sizes).count("parameters, total") == 1
    assert out.with_suffix(".png").read_bytes()[:8] == PNG_MAGIC


# --------------------------------------------------------------------------- output path and errors


def test_default_output_names_the_configs(gan_runs, classifier_runs, monkeypatch, tmp_path):
    runs = read_runs(gan_runs)
    names = [config(r)["name"] for r in gan_runs]
    assert default_output(runs) == Path("reports") / f"compare_{names[0]}_vs_{names[1]}.md"
    # same config name (here: the qubit and classical classifiers): the directories' names
    same = read_runs(classifier_runs)
    dirs = [r.name for r in classifier_runs]
    assert default_output(same) == Path("reports") / f"compare_{dirs[0]}_vs_{dirs[1]}.md"
    monkeypatch.chdir(tmp_path)
    out = write_comparison(gan_runs)
    assert out == Path("reports") / f"compare_{names[0]}_vs_{names[1]}.md"
    assert (tmp_path / out).is_file() and (tmp_path / out.with_suffix(".png")).is_file()


def test_many_runs_get_a_short_default_name(gan_runs):
    runs = read_runs([gan_runs[0]] * 12)
    name = default_output(runs).name
    assert len(name) < 100 and name.endswith("_and_11_more.md")


def test_out_without_suffix_gets_md_and_other_suffixes_are_refused(gan_runs, tmp_path):
    assert write_comparison(gan_runs, tmp_path / "cmp") == tmp_path / "cmp.md"
    with pytest.raises(ValueError, match="--out"):
        write_comparison(gan_runs, tmp_path / "cmp.txt")
    assert not (tmp_path / "cmp.txt").exists()


def test_runs_of_different_kinds_are_refused(gan_runs, classifier_runs, tmp_path):
    with pytest.raises(ValueError, match="different kinds"):
        write_comparison([gan_runs[0], classifier_runs[0]], tmp_path / "mixed.md")
    assert list(tmp_path.iterdir()) == []


def test_one_run_is_not_a_comparison(gan_runs, tmp_path):
    with pytest.raises(ValueError, match="at least two"):
        write_comparison(gan_runs[:1], tmp_path / "one.md")
    assert list(tmp_path.iterdir()) == []


def test_a_bad_directory_among_the_runs_writes_nothing(gan_runs, tmp_path):
    bad = tmp_path / "not-a-run"
    bad.mkdir()
    out = tmp_path / "out" / "cmp.md"
    with pytest.raises(ValueError, match=re.escape(str(bad))):
        write_comparison([gan_runs[0], bad], out)
    assert not out.parent.exists()


def test_config_differences_of_nested_configs():
    a = {"x": 1, "g": {"kind": "cv", "cutoff": 3, "hidden": [8]}, "only_a": True}
    b = {"x": 1, "g": {"kind": "cv", "cutoff": 4, "hidden": [8, 8]}}
    diffs = config_differences([a, b])
    assert list(diffs) == ["g.cutoff", "g.hidden", "only_a"]
    assert diffs["g.cutoff"] == [3, 4]
    assert diffs["only_a"][0] is True and diffs["only_a"][1] is not None  # absent, not null
    assert config_differences([a, a]) == {}


# --------------------------------------------------------------------------- the figure


def losses(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "losses.jsonl").read_text().splitlines()]


def curve_panels(fig) -> dict:
    """``{title: axes}`` of the figure's curve panels (the pictures' axes are switched off)."""
    return {ax.get_title(): ax for ax in fig.axes if ax.axison}


def test_comparison_figure_is_a_compact_grid(gan_runs):
    """One panel per run picture and per logged quantity, laid out in a grid with less than
    one row of empty cells, the figure's size that of the grid's panels."""
    runs = read_runs(gan_runs)
    keys = {k for run in runs for k in curves(run)}
    fig = comparison_figure(runs)
    try:
        assert len(fig.axes) == len(runs) + len(keys)
        rows, columns = grid_shape(len(fig.axes), MAX_COLUMNS)
        assert rows * columns - len(fig.axes) < rows  # a balanced grid
        assert tuple(fig.get_size_inches()) == pytest.approx(
            (PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows)
        )
        panels = curve_panels(fig)
        assert set(panels) == keys
        assert panels["high_quality_fraction"].get_ylim() == (0.0, 1.0)
        assert panels["mode_kl"].get_yscale() == "log"
    finally:
        pyplot().close(fig)


def test_the_adversarial_generator_loss_is_compared(gan_runs):
    """The CV run's leakage penalty is not in the compared generator loss: the panel
    ``g_adversarial`` holds each run's logged adversarial loss (for the CV run, its
    ``g_loss`` minus its logged penalty), and no panel shows the totals."""
    runs = read_runs(gan_runs)
    fig = comparison_figure(runs)
    try:
        panels = curve_panels(fig)
        assert "g_loss" not in panels and "d_loss" not in panels
        lines = {line.get_label(): line for line in panels["g_adversarial"].get_lines()}
        for run in runs:
            logged = losses(run.path)
            ys = list(lines[run.name].get_ydata())
            assert ys == [r["g_adversarial"] for r in logged]
        cv = losses(runs[0].path)
        assert all(r["g_leakage_penalty"] > 0 for r in cv)
        for r in cv:
            total = r["g_adversarial"] + r["g_leakage_penalty"]
            assert r["g_loss"] == pytest.approx(total, rel=1e-6)
    finally:
        pyplot().close(fig)


def test_runs_logged_before_the_terms_fall_back_to_the_totals(gan_runs, tmp_path):
    """A run whose losses.jsonl has only ``d_loss`` and ``g_loss`` (written before the terms
    were logged) is compared on those, labelled with the key it was read from."""
    old = []
    for run in gan_runs:
        copy = tmp_path / run.name
        shutil.copytree(run, copy)
        records = [{k: r[k] for k in ("step", "d_loss", "g_loss")} for r in losses(run)]
        (copy / "losses.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        old.append(copy)
    runs = read_runs(old)
    fig = comparison_figure(runs)
    try:
        lines = {line.get_label(): line for line in curve_panels(fig)["g_adversarial"].get_lines()}
        for run in runs:
            ys = list(lines[f"{run.name} (g_loss)"].get_ydata())
            assert ys == [r["g_loss"] for r in losses(run.path)]
    finally:
        pyplot().close(fig)
