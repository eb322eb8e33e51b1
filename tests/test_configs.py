"""Every file in configs/ belongs to exactly one workload, whose smoke tests run it.

GAN configs (a ``generator`` mapping) are trained by tests/gan/test_configs_smoke.py;
classifier configs (``data.kind`` a classifier dataset) by tests/classify/test_configs_smoke.py.
A config that is neither, or both, would be exercised by no smoke test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qgan.classify.config import DATA_KINDS

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_belongs_to_exactly_one_workload(path):
    raw = yaml.safe_load(path.read_text()) or {}
    is_gan = "generator" in raw
    is_classifier = raw.get("data", {}).get("kind") in DATA_KINDS
    assert is_gan != is_classifier, f"{path.name}: gan={is_gan}, classifier={is_classifier}"
