"""The config of a resumed GAN run (no TensorFlow: ``qgan train --resume`` checks it at once).

A run directory holds its resolved ``config.yaml``; resuming it needs nothing else. The run
keeps its config: a config file given beside ``--resume`` and the command line's overrides
must agree with it, key by key, except ``train.steps`` (an override sets how far the
resumed run trains, and ``config.yaml`` records it) and the config file's ``output.dir``
(the run directory is given). See :func:`resumed_config`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from qgan import _rundir as rundir
from qgan.gan.config import RunConfig, dump_config, load_config

#: the key an override may change on resume: how far the run trains
STEPS_KEY = "train.steps"


def _flat(mapping: dict, prefix: str = "") -> dict:
    """``{"train": {"steps": 3}}`` -> ``{"train.steps": 3}`` (nested mappings only)."""
    flat = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _resolved(cfg: RunConfig) -> dict:
    """The dotted keys and values of ``cfg`` as its ``config.yaml`` records them."""
    return _flat(yaml.safe_load(dump_config(cfg)))


def _refuse(run_dir: Path, key: str, given, saved) -> ValueError:
    return ValueError(
        f"--resume {str(run_dir)!r}: config key {key}: differs from the run's config.yaml "
        f"({given!r} given vs {saved!r}); a resumed run keeps its config"
    )


def resumed_config(
    run_dir, cfg: RunConfig | str | Path | None = None, overrides: dict | None = None
) -> RunConfig:
    """The config to resume ``run_dir`` with: its own ``config.yaml``, trained to
    ``overrides["train.steps"]`` when given (else to its own ``train.steps``).

    ``cfg``: a config given beside the run (optional), a :class:`RunConfig` or a config
    file (read with ``overrides`` and the run's ``train.steps``, so that values derived
    from the step count compare equal); every key but ``train.steps`` and ``output.dir``
    must equal the run's. ``overrides`` (dotted key -> value, the command
    line's ``--steps``/``--seed``/``--output-dir``): any key but ``train.steps`` must equal
    the run's, and ``train.steps`` may not be below the step of the run's last checkpoint.
    A difference is a one-line ``ValueError`` naming the first differing key and both
    values; a directory without ``config.yaml`` is one naming the directory.
    """
    run_dir = Path(run_dir)
    if not (run_dir / rundir.CONFIG_FILE).is_file():
        raise ValueError(
            f"--resume {str(run_dir)!r}: not a run directory (no {rundir.CONFIG_FILE})"
        )
    saved = load_config(run_dir / rundir.CONFIG_FILE)
    theirs = _resolved(saved)
    overrides = dict(overrides or {})
    if isinstance(cfg, (str, Path)):
        cfg = load_config(cfg, {**overrides, STEPS_KEY: saved.train.steps})
    if cfg is not None:
        mine = _resolved(cfg)
        for key in [*theirs, *(k for k in mine if k not in theirs)]:
            if key in (STEPS_KEY, "output.dir"):
                continue
            if mine.get(key) != theirs.get(key):
                raise _refuse(run_dir, key, mine.get(key), theirs.get(key))
    for key, value in overrides.items():
        if key == STEPS_KEY or value == theirs.get(key):
            continue
        if key == "output.dir" and Path(value).resolve() == Path(theirs[key]).resolve():
            continue
        raise _refuse(run_dir, key, value, theirs.get(key))
    if STEPS_KEY not in overrides:
        return saved
    done = (rundir.latest_checkpoint(run_dir) or {}).get("step", 0)
    if overrides[STEPS_KEY] < done:
        raise ValueError(
            f"--resume {str(run_dir)!r}: {STEPS_KEY} {overrides[STEPS_KEY]} is below the "
            f"step the run has reached ({done})"
        )
    return load_config(run_dir / rundir.CONFIG_FILE, {STEPS_KEY: overrides[STEPS_KEY]})
