"""Specification of the ``qgan profile`` verb (and ``scripts/profile.py``).

``qgan profile CONFIG [--batch-sizes 1,4,16,64,256,1024] [--cutoffs 3,4,5,6]
[--layers 1,2,3] [--repeats N] [--warmup N] [--quality] [--quality-steps N]
[--sf-repeats N] [--sf-loop-samples N] [--out reports/NAME]`` writes ``NAME.md`` (the
command line at its top), ``NAME.json`` and the PNG plots; ``--out`` defaults to
``reports/profile_<config name>``. One real run on a shrunken config (one mode, cutoff 2,
tiny grids, two repeats) checks the whole pipeline; argument plumbing, defaults and errors
are checked with the measurement replaced. A bad config or argument is one line on stderr,
exit status 2, nothing written.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qgan.cli import main
from qgan.cli import profile as profile_cli

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "configs" / "bimodal.yaml"
TOP_KEYS = {
    "command",
    "machine",
    "settings",
    "config",
    "step",
    "batch_scaling",
    "sweep",
    "sf_baseline",
    "efficiency",
    "targets",
    "wall_time_s",
}


def mini_config_file(folder: Path, **changes) -> Path:
    """configs/bimodal.yaml shrunk to a one-mode circuit at cutoff 2 (fast to trace)."""
    data = yaml.safe_load(REFERENCE.read_text())
    data["name"] = "mini"
    data["generator"].update(n_modes=1, cutoff=2, n_layers=1, latent_dim=1, sample_modes=[0])
    data["discriminator"]["hidden"] = [8]
    data["train"].update(batch_size=8, eval_samples=64)
    data["data"]["n_samples"] = 200
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path = folder / "mini.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_cli(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(map(str, argv)))
    return code, out.getvalue(), err.getvalue()


SMALL = [
    "--batch-sizes",
    "4",
    "--cutoffs",
    "2,3",
    "--layers",
    "1",
    "--repeats",
    "2",
    "--warmup",
    "0",
    "--sf-repeats",
    "1",
    "--sf-loop-samples",
    "2",
]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profile")
    config = mini_config_file(folder)
    out = folder / "reports" / "mini"
    argv = [
        "profile",
        config,
        *SMALL,
        "--targets",
        ROOT / "scripts/bench/targets.toml",
        "--out",
        out,
    ]
    code, stdout, stderr = run_cli(argv)
    return {"code": code, "stdout": stdout, "stderr": stderr, "out": out, "argv": argv}


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_real_run_writes_the_report(real_run):
    assert real_run["code"] == 0, real_run["stderr"]
    out = real_run["out"]
    md = out.with_suffix(".md")
    assert f"report: {md}" in real_run["stdout"]
    lines = md.read_text().splitlines()
    assert lines[2] == "`qgan " + " ".join(map(str, real_run["argv"])) + "`"
    for suffix in ("_stages.png", "_batch.png", "_sweep.png"):
        png = out.with_name(out.name + suffix)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads(out.with_suffix(".json").read_text())
    assert set(payload) == TOP_KEYS
    assert payload["command"] == lines[2].strip("`")
    assert payload["settings"]["batch_sizes"] == [4]
    assert [(r["cutoff"], r["layers"]) for r in payload["sweep"]] == [(2, 1), (3, 1)]
    assert [(r["batch"], r["stage"]) for r in payload["batch_scaling"]] == [
        (4, "generator_fwd_bwd"),
        (4, "train_step"),
    ]
    step = payload["step"]
    stage_sum = sum(r["median_ms"] for r in step["stages"])
    assert step["overhead"]["median_ms"] == pytest.approx(step["step"]["median_ms"] - stage_sum)
    assert len(payload["targets"]) == 4
    assert all(t["measured"] is not None for t in payload["targets"])


@pytest.fixture
def captured(monkeypatch):
    """Replace the measurement and the writer; ``seen`` records what they were given."""
    import qgan.profiling.performance as library
    import qgan.reports.performance as writer

    seen = {"signature": inspect.signature(library.profile)}

    def fake_profile(cfg, **kwargs):
        seen["cfg"], seen["kwargs"] = cfg, kwargs
        return {
            "step": {"step": {"median_ms": 2.0}, "stage_sum_ms": 1.9, "overhead": {"share": 0.05}},
            "targets": [],
            "wall_time_s": 1.0,
        }

    def fake_write(out, result, command):
        seen["out"], seen["command"] = out, command
        return Path(f"{out}.md")

    monkeypatch.setattr(library, "profile", fake_profile)
    monkeypatch.setattr(writer, "write_profile_report", fake_write)
    return seen


def test_defaults_are_the_library_defaults_and_out_names_the_config(captured, tmp_path):
    config = mini_config_file(tmp_path)
    code, _, err = run_cli(["profile", config])
    assert code == 0, err
    signature = captured["signature"].parameters
    for name, value in captured["kwargs"].items():
        if name == "progress":
            continue
        expected = signature[name].default
        assert value == (list(expected) if isinstance(expected, tuple) else expected), name
    assert captured["out"] == "reports/profile_mini"
    assert captured["command"] == f"qgan profile {config}"


def test_a_bad_targets_file_is_a_one_line_error_before_measuring(captured, tmp_path):
    config = mini_config_file(tmp_path)
    code, _, err = run_cli(["profile", config, "--targets", tmp_path / "none.toml"])
    assert code == 2
    assert err.startswith("qgan profile: error: --targets: cannot read") and err.count("\n") == 1
    assert "kwargs" not in captured  # nothing was measured


def test_script_command_line_is_recorded_as_the_script(captured, tmp_path, monkeypatch):
    config = mini_config_file(tmp_path)
    monkeypatch.setattr(sys, "argv", ["scripts/profile.py", str(config), "--repeats", "3"])
    code, _, err = run_cli(["profile", config, "--repeats", 3, "--out", tmp_path / "p"])
    assert code == 0, err
    assert captured["command"] == (
        f"python scripts/profile.py {config} --repeats 3 --out {tmp_path / 'p'}"
    )
    assert captured["kwargs"]["repeats"] == 3


def test_bad_config_is_one_line_and_writes_nothing(tmp_path):
    config = mini_config_file(tmp_path, **{"train.batch_sze": 3})
    code, out, err = run_cli(["profile", config, "--out", tmp_path / "r" / "x"])
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.startswith("qgan profile: error: config key train.batch_sze")
    assert not (tmp_path / "r").exists() and out == ""


def test_bad_grid_is_refused_before_measuring(tmp_path):
    config = mini_config_file(tmp_path)
    code, _, err = run_cli(["profile", config, "--cutoffs", "1,3", "--out", tmp_path / "r" / "x"])
    assert code == 2
    assert err.strip() == (
        "qgan profile: error: cutoffs must be a non-empty list of ints >= 2, got (1, 3)"
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch-sizes", "a,b"], "expected comma-separated integers"),
        (["--repeats", "0"], "--repeats must be >= 1"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, args, message):
    config = mini_config_file(tmp_path)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
        main(["profile", str(config), *args])
    assert exit_info.value.code == 2
    assert message in err.getvalue()


def test_help_defaults_match_the_library():
    from qgan.profiling.performance import DEFAULT_BATCH_SIZES, DEFAULT_CUTOFFS, DEFAULT_LAYERS

    assert profile_cli.DEFAULTS == {
        "batch_sizes": ",".join(map(str, DEFAULT_BATCH_SIZES)),
        "cutoffs": ",".join(map(str, DEFAULT_CUTOFFS)),
        "layers": ",".join(map(str, DEFAULT_LAYERS)),
    }


def test_script_runs_the_verb():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "profile.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage: qgan profile" in proc.stdout
    for flag in ("--batch-sizes", "--cutoffs", "--layers", "--repeats", "--quality", "--out"):
        assert flag in proc.stdout
