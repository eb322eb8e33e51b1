"""Sweep trials: configs x ``--set`` values x seeds, each validated before anything runs.

A trial is one :class:`TrialSpec`: the run that ``qgan train CONFIG --seed S`` (or ``qgan
classify``) with the trial's overrides makes. :func:`expand_trials` builds every trial of a
sweep and validates each one with its config's own loader
(:func:`qgan.gan.config.load_config` or :func:`qgan.classify.config.load_config`), reads
the data files the runs will read and checks the runs' output folder, so that a bad key,
value or file is one ``ValueError`` line naming it before a cluster is started or a file
written. Imports neither TensorFlow nor Ray.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import asdict, dataclass, field

import yaml

from qgan._config import read_yaml

#: the workloads a sweep runs, by :func:`workload`
WORKLOADS = ("gan", "classify")
#: a float literal YAML 1.1 leaves a string (``1e-3``)
NUMBER = re.compile(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+")
#: config keys a ``--set`` may not sweep: the sweep owns them (``--seeds``, ``--runs-dir``)
RESERVED = {"seed": "--seeds", "output.dir": "--runs-dir"}


def workload(raw: dict) -> str:
    """``"gan"`` or ``"classify"``: which workload a config mapping (as read from YAML) is
    for. A GAN config has a ``generator`` section (its decoder and discriminator sections
    are optional); a classifier config has a ``model`` section or a classifier ``data.kind``
    (``qgan.classify.config.DATA_KINDS``). A one-line ``ValueError`` when neither or both."""
    from qgan.classify.config import DATA_KINDS

    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    is_gan = any(k in raw for k in ("generator", "decoder", "discriminator"))
    is_classify = "model" in raw or data.get("kind") in DATA_KINDS
    if is_gan == is_classify:
        raise ValueError(
            "cannot tell the config's workload: a GAN config (qgan train) has a generator "
            "section, a classifier config (qgan classify) a model section or data.kind in "
            f"{DATA_KINDS}"
        )
    return "gan" if is_gan else "classify"


def config_module(kind: str):
    """The config module of a workload (``qgan.gan.config`` or ``qgan.classify.config``)."""
    if kind == "gan":
        from qgan.gan import config
    else:
        from qgan.classify import config
    return config


@dataclass(frozen=True)
class TrialSpec:
    """One trial: everything a worker needs to make the run, as plain data (it travels to
    Ray workers, which need not see the config file).

    ``config``: the validated, resolved config as a JSON mapping (the trial re-validates it
    with its workload's ``parse_config``); ``config_path``: the config argument as given;
    ``overrides``: the swept ``--set`` values of this trial (dotted key -> value);
    ``setting``: their label (``train.steps=5 cutoff=3``; ``-`` without any)."""

    trial_id: str
    workload: str
    config_path: str
    name: str
    seed: int
    overrides: dict = field(default_factory=dict)
    setting: str = "-"
    config: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The spec as a JSON mapping."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrialSpec:
        """The spec of :meth:`to_dict`."""
        return cls(**data)


def split_values(text: str) -> list[str]:
    """The comma-separated values of a ``--set`` value list; commas inside brackets or
    braces (a YAML list ``[a, b]``) do not split."""
    values, depth, current = [], 0, []
    for char in text:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return [v.strip() for v in values]


def parse_set(text: str) -> tuple[str, list]:
    """``"KEY=V1,V2"`` -> ``(KEY, [v1, v2])``, each value read as a YAML scalar or flow
    list (``5`` is an int, ``1e-3`` a float, ``[a, b]`` a list, ``null`` None). A one-line
    ``ValueError`` naming the option when it is not of that form."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
        raise ValueError(f"--set {text!r}: expected KEY=V1,V2,... with a dotted config key")
    if key in RESERVED:
        raise ValueError(f"--set {key}: set by the sweep; use {RESERVED[key]}")
    raw = split_values(rest)
    if not rest.strip() or any(v == "" for v in raw):
        raise ValueError(f"--set {key}: expected one or more comma-separated values, got {rest!r}")
    values = []
    for value in raw:
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ValueError(f"--set {key}: cannot read the value {value!r}") from None
        if isinstance(parsed, str) and NUMBER.fullmatch(parsed):
            parsed = float(parsed)  # YAML 1.1 reads 1e-3 (no dot) as a string
        values.append(parsed)
    return key, values


def _label(overrides: dict) -> str:
    if not overrides:
        return "-"
    return " ".join(
        f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in overrides.items()
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=_-]+", "_", text).strip("_")[:60]


def trial_id(name: str, seed: int, setting: str, config: dict) -> str:
    """A stable id: the config name, the setting, the seed and a digest of the resolved
    config (output settings aside), so that a changed config file is a new trial while a
    re-run of the same command finds its finished trials again."""
    content = {k: v for k, v in config.items() if k != "output"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]
    middle = "" if setting == "-" else f"-{_slug(setting)}"
    return f"{name}{middle}-s{seed}-{digest}"


def _absolute(overrides: dict, keys) -> dict:
    """Path overrides made absolute against the working directory: trials run in Ray
    worker processes whose working directory is not the user's."""
    out = dict(overrides)
    for key in keys:
        if isinstance(out.get(key), str):
            out[key] = os.path.abspath(os.path.expanduser(out[key]))
    return out


def check_inputs(kind: str, cfg) -> None:
    """What ``qgan train`` / ``qgan classify`` check before TensorFlow: the runs' output
    folder can be created and the data files read (one-line ``ValueError``s)."""
    from qgan._paths import check_output_dir

    check_output_dir(cfg.output.dir)
    if kind == "gan":
        if cfg.data.kind == "file":
            from qgan.gan.data import read_data_file

            read_data_file(cfg.data.path)
    else:
        from qgan.classify.data import check_files

        check_files(cfg.data)


def expand_trials(configs, seeds, sets=(), runs_dir=None) -> list[TrialSpec]:
    """Every trial of a sweep, in order (configs, then settings, then seeds), validated.

    ``configs``: config files (or shipped configs' names); ``seeds``: ints; ``sets``:
    ``"KEY=V1,V2"`` texts (:func:`parse_set`; several keys sweep their product);
    ``runs_dir``: overrides ``output.dir`` of every run (default: each config's own).
    Every trial's config is validated by its workload's ``load_config`` and its inputs
    checked (:func:`check_inputs`); the first problem is a one-line ``ValueError`` naming
    the config and the ``--set`` key where one is at fault. Nothing is written.
    """
    seeds = [int(s) for s in seeds]
    if not configs:
        raise ValueError("expected at least one config")
    if not seeds:
        raise ValueError("--seeds: expected at least one seed")
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"--seeds: a seed is given twice: {seeds}")
    swept = dict(parse_set(s) for s in sets)
    if len(swept) < len(sets):
        raise ValueError("--set: a key is given twice; list its values in one --set KEY=A,B")
    keys = list(swept)
    settings = [dict(zip(keys, combo)) for combo in itertools.product(*swept.values())]
    specs, seen = [], set()
    for path in configs:
        kind = workload(read_yaml(path))
        module = config_module(kind)
        for setting in settings:
            fixed = {} if runs_dir is None else {"output.dir": str(runs_dir)}
            overrides = _absolute({**setting, **fixed}, (*module.PATHS, "output.dir"))
            try:
                base = module.load_config(path, overrides)
            except ValueError as err:
                raise ValueError(_blame(path, err, setting)) from None
            if base.output.dir is not None:  # trials run elsewhere: the folder made absolute
                base = base.model_copy(
                    update={
                        "output": base.output.model_copy(
                            update={"dir": os.path.abspath(base.output.dir)}
                        )
                    }
                )
            try:
                check_inputs(kind, base)
            except ValueError as err:
                raise ValueError(f"{path}: {err}") from None
            label = _label(setting)
            for seed in seeds:
                cfg = module.parse_config({**base.model_dump(mode="json"), "seed": seed})
                data = cfg.model_dump(mode="json")
                tid = trial_id(cfg.name, seed, label, data)
                if tid in seen:
                    raise ValueError(f"{path}: the same trial twice ({tid}): a config given twice?")
                seen.add(tid)
                specs.append(TrialSpec(tid, kind, str(path), cfg.name, seed, setting, label, data))
    return specs


def _blame(path, err: ValueError, setting: dict) -> str:
    """``err`` of loading ``path`` with ``setting``, naming the ``--set`` key at fault."""
    text = str(err)
    for key, value in setting.items():
        if (
            f"config key {key}:" in text
            or f"config key {key}." in text
            or text.startswith(f"config key {key.rsplit('.', 1)[0]}:")
        ):
            return f"--set {key}={value}: {text}"
    return f"{path} with {_label(setting)}: {text}" if setting else f"{path}: {text}"
