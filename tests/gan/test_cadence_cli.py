"""``qgan train CONFIG --steps N`` with the evaluation and checkpoint cadence unset: the
override is applied before validation, so the cadence follows N (N // 6, at least 1), not
the config file's ``train.steps``. The config the command would train is captured by
replacing :func:`qgan.gan.training.train` (nothing is trained)."""

from __future__ import annotations

import pytest

from qgan.cli import main


class Captured(KeyboardInterrupt):
    """Raised by the stand-in trainer: the command treats it as an interrupt (exit 130)."""


@pytest.mark.parametrize(("steps", "every"), [(200, 33), (12, 2), (3, 1)])
def test_steps_on_the_command_line_sets_the_cadence(steps, every, tmp_path, monkeypatch):
    import qgan.gan.training as training

    seen = []

    def capture(cfg=None, **kwargs):
        seen.append(cfg)
        raise Captured

    monkeypatch.setattr(training, "train", capture)
    path = tmp_path / "run.yaml"
    path.write_text("generator:\n  kind: cv\ntrain:\n  steps: 1500\n")
    assert main(["train", str(path), "--steps", str(steps)]) == 130
    (cfg,) = seen
    assert cfg.train.steps == steps
    assert (cfg.train.eval_every, cfg.train.checkpoint_every) == (every, every)
