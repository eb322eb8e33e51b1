"""``scripts/classify_results.py`` and ``qgan.classify.results``: run classifier configs
over seeds, write ``OUT.{md,json}`` and fill a README's classify-results block.

Oracles: each run's own ``metrics.json`` on disk (the numbers the report and README must
carry), the README copy's text outside the markers (must be unchanged byte for byte), and
the block's content rebuilt from those files. Configs are the shipped ones shrunk to a
second each (60 digits / Fashion-MNIST images, 1 epoch, 2 qubits, depth 1).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
import yaml

from qgan.classify.results import END, SHIPPED, START, replace_block

ROOT = Path(__file__).resolve().parents[2]
README = "# Title\n\nIntro text.\n\n{start}\nold results\n{end}\n\nAfter the block.\n"


def _script():
    spec = importlib.util.spec_from_file_location(
        "classify_results", ROOT / "scripts" / "classify_results.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shrunk(tmp_path) -> list[str]:
    """The shipped configs, shrunk (same names and kinds)."""
    out = []
    for rel in SHIPPED:
        data = yaml.safe_load((ROOT / rel).read_text())
        data["data"]["n_samples"] = 60
        data["train"]["epochs"] = 1
        data["output"]["plots"] = False
        if data["model"]["kind"] == "qubit":
            data["model"].update(n_qubits=2, depth=1, feature_groups=1)
        else:
            data["model"]["hidden"] = [8]
        path = tmp_path / Path(rel).name
        path.write_text(yaml.safe_dump(data))
        out.append(str(path))
    return out


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """One run of the script: 3 shrunk configs x seeds 0, 1 against a README copy."""
    tmp = tmp_path_factory.mktemp("results")
    readme = tmp / "README_copy.md"
    readme.write_text(README.format(start=START, end=END))
    configs = _shrunk(tmp)
    argv = [*configs, "--seeds", "0,1", "--readme", str(readme), "--out", str(tmp / "out" / "r")]
    argv += ["--runs-dir", str(tmp / "runs")]
    status = _script().main(argv)
    return {"status": status, "tmp": tmp, "readme": readme, "configs": configs, "argv": argv}


@pytest.mark.slow
def test_one_row_per_config_and_seed_from_the_runs_metrics(sweep):
    assert sweep["status"] == 0
    data = json.loads((sweep["tmp"] / "out" / "r.json").read_text())
    rows = data["runs"]
    assert [(r["config"], r["seed"]) for r in rows] == [
        (c, s) for c in sweep["configs"] for s in (0, 1)
    ]
    for row in rows:
        metrics = json.loads((Path(row["run_dir"]) / "metrics.json").read_text())
        assert Path(row["run_dir"]).parent == sweep["tmp"] / "runs"
        for key in (
            "accuracy", "train_accuracy", "n_params", "wall_s", "circuits_executed",
            "shots_executed", "seed", "n_validation",
        ):  # fmt: skip
            assert row[key] == metrics[key], key
    assert data["command"].startswith("python scripts/classify_results.py ")
    assert "--seeds 0,1" in data["command"]
    qubit = [r for r in rows if r["model"] == "qubit"]
    assert all(r["circuits_executed"] > 0 and r["n_params"]["quantum"] == 4 for r in qubit)
    md = (sweep["tmp"] / "out" / "r.md").read_text()
    assert data["command"] in md
    for row in rows:
        b = row["baselines"]
        assert b == json.loads((Path(row["run_dir"]) / "metrics.json").read_text())["baselines"]
        assert (
            f"| {row['accuracy']:.4f} | {b['logistic_regression']['accuracy']:.4f} | "
            f"{b['mlp']['accuracy']:.4f} | {100 * b['gap']:+.1f} | {row['train_accuracy']:.4f} |"
        ) in md


@pytest.mark.slow
def test_readme_block_replaced_and_nothing_else(sweep):
    text = sweep["readme"].read_text()
    before, rest = text.split(START)
    block, after = rest.split(END)
    assert before == "# Title\n\nIntro text.\n\n"
    assert after == "\n\nAfter the block.\n"
    assert "old results" not in block
    data = json.loads((sweep["tmp"] / "out" / "r.json").read_text())
    assert f"`{data['command']}`" in block
    assert "(out/r.md)" in block  # linked relative to the README's folder
    summary, per_seed = block.split("Validation accuracy per seed:")
    table = [line for line in summary.splitlines() if line.startswith("| `")]
    assert len(table) == len(SHIPPED)  # one row per config
    for line, config in zip(table, SHIPPED):
        runs = [r for r in data["runs"] if r["name"] == Path(config).stem]
        accs = sorted(f"{r['accuracy']:.3f}" for r in runs)
        span = accs[0] if accs[0] == accs[-1] else f"{accs[0]}-{accs[-1]}"
        n_val = runs[0]["n_validation"]
        mean = sum(r["accuracy"] for r in runs) / len(runs)
        assert line.startswith(
            f"| `{Path(config).stem}` (1 epochs) | {mean:.3f} ({span}; {n_val}) |"
        )


@pytest.mark.slow
def test_readme_block_has_each_config_and_seed(sweep):
    """Below the summary, a config x seed table of validation accuracies (3 decimals),
    one row per config in order, one column per seed."""
    block = sweep["readme"].read_text().split(START)[1].split(END)[0]
    per_seed = block.split("Validation accuracy per seed:")[1]
    lines = [line for line in per_seed.splitlines() if line.startswith("|")]
    assert lines[0] == "| config | seed 0 | seed 1 |"
    runs = json.loads((sweep["tmp"] / "out" / "r.json").read_text())["runs"]
    for line, config in zip(lines[2:], SHIPPED, strict=True):
        name = Path(config).stem
        accs = {r["seed"]: r["accuracy"] for r in runs if r["name"] == name}
        assert line == f"| `{name}` | {accs[0]:.3f} | {accs[1]:.3f} |"


@pytest.mark.slow
def test_from_report_rewrites_report_and_block_without_runs(sweep, tmp_path):
    """--from-report: the same report and README block from the stored runs, no run made."""
    copy = tmp_path / "README.md"
    copy.write_text(README.format(start=START, end=END))
    out = tmp_path / "again"
    source = sweep["tmp"] / "out" / "r.json"
    argv = ["--from-report", str(source), "--out", str(out), "--readme", str(copy)]
    assert _script().main(argv) == 0
    assert json.loads(out.with_suffix(".json").read_text()) == json.loads(source.read_text())
    assert out.with_suffix(".md").read_text() == (sweep["tmp"] / "out" / "r.md").read_text()
    first = sweep["readme"].read_text().split(START)[1].split(END)[0]
    again = copy.read_text().split(START)[1].split(END)[0]
    assert again == first.replace("out/r.md", f"{os.path.relpath(out, tmp_path)}.md")


def test_a_bad_from_report_is_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"runs": []}')
    argv = ["--from-report", str(bad), "--out", str(tmp_path / "o"), "--readme", ""]
    assert _script().main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("classify_results: error: --from-report: not a classify_results report")
    assert "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


@pytest.mark.slow
def test_running_again_replaces_the_block_again(sweep, tmp_path):
    """The block is replaced, not appended to: a second fill leaves one block."""
    from qgan.classify.results import readme_block, update_readme

    rows = json.loads((sweep["tmp"] / "out" / "r.json").read_text())["runs"]
    copy = tmp_path / "README.md"
    copy.write_text(sweep["readme"].read_text())
    update_readme(copy, readme_block(rows, "cmd", "r.md"))
    update_readme(copy, readme_block(rows, "cmd", "r.md"))
    text = copy.read_text()
    assert text.count(START) == 1 and text.count(END) == 1 and text.count("`cmd`") == 1


@pytest.mark.parametrize(
    "text, found",
    [
        ("no markers\n", "found 0 and 0"),
        (f"{START}\n{START}\n{END}\n", "found 2 and 1"),
        (f"{END}\n", "found 0 and 1"),
        (f"x{END}y{START}z", "comes before"),
    ],
)
def test_replace_block_needs_one_pair_of_markers(text, found):
    with pytest.raises(ValueError) as err:
        replace_block(text, "x", name="R.md")
    msg = str(err.value)
    assert "\n" not in msg and "R.md" in msg and found in msg


def test_replace_block_keeps_the_rest():
    text = f"a\n{START}\nold\n{END}\nb\n"
    assert replace_block(text, "new\n") == f"a\n{START}\nnew\n{END}\nb\n"


def test_bad_readme_is_refused_before_any_run(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    runs = tmp_path / "runs"
    argv = [*_shrunk(tmp_path), "--readme", str(readme), "--runs-dir", str(runs)]
    assert _script().main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--readme" in err and str(readme) in err
    assert readme.read_text() == "no markers here\n" and not runs.exists()


def test_bad_config_is_refused_before_any_run(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {epochs: 0}\n")
    runs = tmp_path / "runs"
    argv = [str(bad), "--readme", "", "--runs-dir", str(runs), "--out", str(tmp_path / "r")]
    assert _script().main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.epochs" in err and str(bad) in err
    assert not runs.exists()
