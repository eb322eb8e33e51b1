"""``qgan config list|show|reference`` and shipped-config names, run as a user does: the entry
point in a fresh interpreter, from a folder outside the repository.

Oracles: the files in the repository's ``configs/`` folder and their ``generator`` section /
``data.kind`` (as tests/test_configs.py tells the workloads apart), and the config modules'
own ``load_config`` + ``dump_config`` of the file given by its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from commands import ROOT, qgan_command, run_command

from qgan.classify import config as classify_config
from qgan.classify.config import DATA_KINDS
from qgan.gan import config as gan_config

CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def _workload(path: Path) -> str:
    raw = yaml.safe_load(path.read_text())
    return "gan" if "generator" in raw else "classify"


def test_configs_folder_is_a_link_to_the_installed_package_configs():
    """A clone's ``configs/`` is a relative link to ``qgan/configs`` (installed as package
    data), so ``configs/x.yaml`` in the README, tests and scripts names the shipped file."""
    link = ROOT / "configs"
    assert link.is_symlink() and not Path(link.readlink()).is_absolute()
    assert link.resolve() == (ROOT / "qgan" / "configs").resolve()
    assert len(CONFIGS) >= 10


def test_config_list_from_another_folder_lists_every_shipped_config(tmp_path):
    result = run_command([*qgan_command(), "config", "list"], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [line.split(None, 2) for line in result.stdout.splitlines()]
    assert [r[0] for r in rows] == [p.stem for p in CONFIGS]
    assert [r[1] for r in rows] == [_workload(p) for p in CONFIGS]
    assert all(len(r) == 3 and r[2] for r in rows), "every config has a one-line description"
    first = dict((r[0], r[2]) for r in rows)["bimodal"]
    assert first.startswith("The reference task: a 2-D bimodal mixture")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "module"),
    [("bimodal", gan_config), ("digits_qubit.yaml", classify_config)],
    ids=["gan-bare-name", "classify-with-suffix"],
)
def test_config_show_by_shipped_name_prints_the_resolved_config(name, module, tmp_path):
    """From a folder outside the repository, ``qgan config show NAME`` prints YAML that
    validates and equals the config loaded from the repository file by its path, dumped."""
    result = run_command([*qgan_command(), "config", "show", name], tmp_path)
    assert result.returncode == 0, result.stderr
    shown = yaml.safe_load(result.stdout)
    expected = module.load_config(ROOT / "configs" / (Path(name).stem + ".yaml"))
    assert module.parse_config(shown) == expected
    assert shown == yaml.safe_load(module.dump_config(expected))
    assert "train" in shown and shown["name"] == Path(name).stem  # every default is listed


def test_load_config_takes_a_shipped_name_when_no_such_file_exists(tmp_path, monkeypatch):
    """``qgan train bimodal`` / ``qgan classify digits_qubit`` from any folder: the config
    loaders fall back to the shipped config of that name; a file of that name wins."""
    monkeypatch.chdir(tmp_path)
    assert gan_config.load_config("bimodal") == gan_config.load_config(
        ROOT / "configs/bimodal.yaml"
    )
    assert classify_config.load_config("digits_qubit") == classify_config.load_config(
        ROOT / "configs/digits_qubit.yaml"
    )
    (tmp_path / "bimodal.yaml").write_text("name: mine\n")
    assert gan_config.load_config("bimodal.yaml").name == "mine"
    with pytest.raises(ValueError, match=r"'nope' does not exist and is not a shipped config"):
        gan_config.load_config("nope")


def test_unknown_config_name_is_one_line_and_status_2(tmp_path):
    result = run_command([*qgan_command(), "train", "no_such_config"], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "qgan train: error: config file 'no_such_config' does not exist and is not a shipped "
        "config (bimodal, "
    )


def test_config_paths_resolve_against_the_config_files_folder(tmp_path):
    """A relative ``data.path`` in a config file names a file beside the config, whatever the
    working directory: ``qgan config show`` run from another folder prints it absolute."""
    (tmp_path / "cfg").mkdir()
    (tmp_path / "elsewhere").mkdir()
    np.save(tmp_path / "cfg" / "points.npy", np.zeros((4, 2)))
    (tmp_path / "cfg" / "run.yaml").write_text(
        "generator:\n  kind: classical\n  n_outcomes: 2\ndata:\n  kind: file\n  path: points.npy\n"
    )
    result = run_command(
        [*qgan_command(), "config", "show", "../cfg/run.yaml"], tmp_path / "elsewhere"
    )
    assert result.returncode == 0, result.stderr
    shown = yaml.safe_load(result.stdout)
    assert shown["data"]["path"] == str((tmp_path / "cfg" / "points.npy").resolve())


def test_config_show_refuses_a_config_of_no_workload(tmp_path):
    (tmp_path / "x.yaml").write_text("train:\n  steps: 3\n")
    result = run_command([*qgan_command(), "config", "show", "x.yaml"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("qgan config: error: cannot tell the config's workload")


def test_workload_detection_agrees_with_the_configs_test_rule():
    """The CLI's rule (``qgan.cli.config.workload``) gives every shipped config the workload
    tests/test_configs.py assigns it (``generator`` section vs classifier ``data.kind``)."""
    from qgan.cli.config import workload

    for path in CONFIGS:
        raw = yaml.safe_load(path.read_text())
        expected = "classify" if raw.get("data", {}).get("kind") in DATA_KINDS else "gan"
        assert workload(raw) == expected == _workload(path), path.name


def test_config_reference_verb_prints_every_key_of_both_models(tmp_path):
    from qgan._config_reference import rows

    result = run_command([*qgan_command(), "config", "reference"], tmp_path)
    assert result.returncode == 0, result.stderr
    for model in (gan_config.RunConfig, classify_config.ClassifyConfig):
        for row in rows(model):
            assert f"| `{row.key}` |" in result.stdout
