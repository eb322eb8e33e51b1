"""Fixtures of the sweep tests: tiny GAN and classifier configs (a trial of a few seconds)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tiny_configs import diverging_gan, tiny_classifier, tiny_gan


@pytest.fixture(scope="session")
def configs():
    """The config makers of ``tiny_configs``: ``configs.gan(folder)``,
    ``configs.diverging(folder)``, ``configs.classifier(folder)``."""
    return SimpleNamespace(gan=tiny_gan, diverging=diverging_gan, classifier=tiny_classifier)
