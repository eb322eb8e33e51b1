"""Every file in configs/ belongs to exactly one workload, whose smoke tests run it.

GAN configs (a ``generator`` mapping) are trained by tests/gan/test_configs_smoke.py;
classifier configs (``data.kind`` a classifier dataset) by tests/classify/test_configs_smoke.py.
A config that is neither, or both, would be exercised by no smoke test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from commands import ROOT, qgan_command, run_command

from qgan.classify.config import DATA_KINDS

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_belongs_to_exactly_one_workload(path):
    raw = yaml.safe_load(path.read_text()) or {}
    is_gan = "generator" in raw
    is_classifier = raw.get("data", {}).get("kind") in DATA_KINDS
    assert is_gan != is_classifier, f"{path.name}: gan={is_gan}, classifier={is_classifier}"


def test_config_validation_imports_neither_tensorflow_nor_strawberry_fields():
    """A fresh interpreter: importing both config modules (and validating a config) leaves
    TensorFlow and Strawberry Fields unimported, so a bad config is reported at once."""
    code = (
        "import qgan.gan.config, qgan.classify.config; import sys; "
        "qgan.gan.config.parse_config({}); qgan.classify.config.parse_config({}); "
        "heavy = [m for m in ('tensorflow', 'strawberryfields') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    result = run_command([sys.executable, "-c", code], cwd=ROOT)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("verb", "text", "key"),
    [
        ("train", "train:\n  batch_sze: 3\n", "train.batch_sze"),
        ("classify", "train:\n  epochz: 3\n", "train.epochz"),
        ("profile", "generator:\n  cutof: 3\n", "generator.cutof"),
    ],
    ids=["train", "classify", "profile"],
)
def test_bad_config_from_the_shell_is_one_line_and_status_2(verb, text, key, tmp_path):
    """``qgan VERB BAD.yaml`` as a user runs it (the entry point, a fresh interpreter): exit
    status 2, one stderr line naming the key, nothing on stdout or on disk, and TensorFlow
    never imported (``PYTHONPROFILEIMPORTTIME`` lists every module the process imports)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = run_command([*qgan_command(), verb, bad], tmp_path, PYTHONPROFILEIMPORTTIME="1")
    stderr = result.stderr.splitlines()
    imported = {line.split("|")[-1].strip() for line in stderr if line.startswith("import time:")}
    lines = [line for line in stderr if not line.startswith("import time:")]
    assert result.returncode == 2, lines
    assert lines == [f"qgan {verb}: error: config key {key}: unknown key"]
    assert result.stdout == ""
    assert "qgan.cli" in imported  # the listing works
    assert "tensorflow" not in imported and "strawberryfields" not in imported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
