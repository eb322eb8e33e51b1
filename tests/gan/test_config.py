"""Specification of ``qgan.gan.config``: YAML run configs validated into ``RunConfig``.

Every shipped config loads (the list is globbed, so a new config is covered without
editing this file), the resolved config round-trips through YAML, and every kind of
mistake -- an unknown key, a wrong type, an impossible value, an inconsistent combination
-- is ONE ``ValueError`` line that names the offending dotted key.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from qgan.gan.config import RunConfig, dump_config, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
# GAN configs are those with a generator; classifier configs are tests/classify's.
SHIPPED = sorted(
    p for p in (ROOT / "configs").glob("*.yaml") if "generator" in yaml.safe_load(p.read_text())
)
REFERENCE = ROOT / "configs" / "bimodal.yaml"


def reference() -> dict:
    return yaml.safe_load(REFERENCE.read_text())


def with_values(data: dict, **dotted) -> dict:
    """A deep copy of ``data`` with ``a__b__c=value`` set at ``a.b.c`` (``...`` deletes)."""
    data = copy.deepcopy(data)
    for key, value in dotted.items():
        *parents, leaf = key.split("__")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        if value is ...:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return data


def one_line_error(data) -> str:
    with pytest.raises(ValueError) as info:
        parse_config(data)
    msg = str(info.value)
    assert "\n" not in msg, f"error is not one line: {msg!r}"
    return msg


def names_key(msg: str, key: str) -> bool:
    """``key`` appears in ``msg`` as a whole dotted name (not as part of a longer one)."""
    return re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", msg) is not None


# --------------------------------------------------------------------------- valid configs


def test_there_are_shipped_configs():
    assert REFERENCE in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_loads_and_round_trips(path, tmp_path):
    cfg = load_config(path)
    assert isinstance(cfg, RunConfig)
    # the resolved dump (every default filled in) loads back to the same config
    resolved = tmp_path / "resolved.yaml"
    resolved.write_text(dump_config(cfg))
    assert load_config(resolved) == cfg
    # and it is explicit: every section of the model is written out
    assert set(yaml.safe_load(resolved.read_text())) == set(RunConfig.model_fields)


def test_reference_config_values_reach_the_model():
    raw = reference()
    cfg = load_config(REFERENCE)
    assert cfg.name == raw["name"]
    assert cfg.generator.n_modes == raw["generator"]["n_modes"]
    assert cfg.generator.readout == raw["generator"]["readout"]
    assert cfg.decoder.kind == raw["decoder"]["kind"]
    assert cfg.train.batch_size == raw["train"]["batch_size"]
    assert cfg.train.early_stopping.metric == raw["train"]["early_stopping"]["metric"]


def test_empty_mapping_is_all_defaults():
    assert parse_config({}) == RunConfig()


def test_overrides_set_dotted_keys(tmp_path):
    cfg = load_config(
        REFERENCE,
        overrides={"train.steps": 7, "train.early_stopping.patience": 3, "output.dir": "x"},
    )
    assert cfg.train.steps == 7
    assert cfg.train.early_stopping.patience == 3
    assert cfg.output.dir == "x"
    assert load_config(REFERENCE).train.steps == reference()["train"]["steps"]


def test_overrides_are_validated():
    with pytest.raises(ValueError, match=r"train\.steps"):
        load_config(REFERENCE, overrides={"train.steps": 0})


# --------------------------------------------------------------------------- errors

# (label, change to the reference config, the dotted key the error must name)
BAD = [
    ("unknown key", {"train__batch_sze": 64}, "train.batch_sze"),
    ("unknown nested key", {"train__early_stopping__patiense": 2}, "train.early_stopping.patiense"),
    ("unknown section", {"trian": {"steps": 3}}, "trian"),
    ("string for int", {"train__steps": "ten"}, "train.steps"),
    ("float for int", {"train__steps": 1.5}, "train.steps"),
    ("bool for int", {"generator__n_modes": True}, "generator.n_modes"),
    ("string for float", {"train__lr_generator": "fast"}, "train.lr_generator"),
    ("string for list", {"generator__readout": "photon_samples"}, "generator.readout"),
    ("unknown choice", {"train__loss": "least_squares"}, "train.loss"),
    ("unknown readout", {"generator__readout": ["photon_samples", "magic"]}, "generator.readout"),
    ("negative steps", {"train__steps": -5}, "train.steps"),
    ("zero batch", {"train__batch_size": 0}, "train.batch_size"),
    ("cutoff 1", {"generator__cutoff": 1}, "generator.cutoff"),
    ("negative lr", {"train__lr_discriminator": -0.1}, "train.lr_discriminator"),
    ("beta1 of 1", {"train__beta1": 1.0}, "train.beta1"),
    ("bad name", {"name": "my run"}, "name"),
    (
        "batch not a multiple of pack",
        {"discriminator__pack": 3, "train__batch_size": 100, "train__eval_samples": 300},
        "train.batch_size",
    ),
    (
        "eval samples not a multiple of pack",
        {
            "discriminator__pack": 4,
            "train__batch_size": 64,
            "train__eval_samples": 102,
            "train__outcome_gradient": "straight_through",
        },
        "train.eval_samples",
    ),
    (
        "mode_assignment after a quadrature readout",
        {
            "generator__readout": ["quadratures", "photon_samples"],
            "train__outcome_gradient": "straight_through",
        },
        "decoder.kind",
    ),
    (
        "marginal outcome gradient without sampled outcomes",
        {"generator__readout": ["quadratures"]},
        "train.outcome_gradient",
    ),
    (
        "mode_assignment with a classical generator without outcomes",
        {
            "generator__kind": "classical",
            "generator__n_outcomes": 0,
            "train__outcome_gradient": "straight_through",
        },
        "decoder.kind",
    ),
    ("sample mode out of range", {"generator__sample_modes": [0, 4]}, "generator.sample_modes"),
    ("repeated sample mode", {"generator__sample_modes": [1, 1]}, "generator.sample_modes"),
    ("repeated readout", {"generator__readout": ["photon_samples"] * 2}, "generator.readout"),
    (
        "mixture without centers",
        {"data__kind": "gaussian_mixture", "data__std": 0.1},
        "data.centers",
    ),
    (
        "mixture without std",
        {"data__kind": "gaussian_mixture", "data__centers": [[0, 0]]},
        "data.std",
    ),
    ("file without path", {"data__kind": "file"}, "data.path"),
    ("option of another data kind", {"data__noise": 0.1}, "data.noise"),
    (
        "unknown early-stopping metric",
        {"train__early_stopping__metric": "fid"},
        "train.early_stopping.metric",
    ),
]


@pytest.mark.parametrize(("change", "key"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config_is_one_line_naming_the_key(change, key):
    data = with_values(reference(), **change)
    msg = one_line_error(data)
    assert names_key(msg, key), f"{msg!r} does not name {key}"


def test_the_fixes_of_the_bad_configs_are_valid():
    """Guard for the table above: the reference config itself is valid, and so is each
    inconsistent combination once its partner key is also changed."""
    parse_config(reference())
    parse_config(
        with_values(
            reference(),
            discriminator__pack=4,
            train__batch_size=64,
            train__eval_samples=100,
            train__outcome_gradient="straight_through",
        )
    )
    parse_config(
        with_values(
            reference(),
            generator__readout=["mean_photon", "quadratures"],
            train__outcome_gradient="straight_through",
        )
    )
    parse_config(
        with_values(
            reference(),
            decoder__kind="affine",
            generator__readout=["quadratures"],
            train__outcome_gradient="straight_through",
        )
    )
    parse_config(
        with_values(
            reference(),
            data__kind="gaussian_mixture",
            data__std=0.1,
            data__centers=[[0, 0], [1, 1]],
        )
    )


def test_not_a_mapping():
    with pytest.raises(ValueError, match="mapping"):
        parse_config(["train"])


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_config(path)


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("train: [unclosed\n")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_config(path)


def test_error_of_a_file_names_the_key(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(with_values(reference(), train__batch_sze=64)))
    with pytest.raises(ValueError) as info:
        load_config(path)
    assert "\n" not in str(info.value) and names_key(str(info.value), "train.batch_sze")


def test_data_file_path_resolves_against_the_config_files_folder(tmp_path, monkeypatch):
    """DESIGN.md: config paths resolve relative to the config file, whatever the working
    directory; the resolved config, saved and read back elsewhere, names the same file."""
    folder = tmp_path / "study"
    (folder / "points").mkdir(parents=True)
    (folder / "run.yaml").write_text("data:\n  kind: file\n  path: points/x.npy\n")
    monkeypatch.chdir(tmp_path)
    expected = str(folder / "points" / "x.npy")
    assert load_config("study/run.yaml").data.path == expected
    monkeypatch.chdir(folder / "points")
    cfg = load_config("../run.yaml")
    assert cfg.data.path == expected
    saved = tmp_path / "elsewhere" / "config.yaml"
    saved.parent.mkdir()
    saved.write_text(dump_config(cfg))
    assert load_config(saved) == cfg


# --------------------------------------------------------------------------- resolved defaults


def resolved(data: dict) -> dict:
    """The mapping :func:`dump_config` writes for the config ``data``."""
    return yaml.safe_load(dump_config(parse_config(data)))


# (label, config, the outcome gradient "auto" resolves to): marginal exactly where the
# validator accepts it (mode_assignment decoder, sampled outcomes, pack 1)
AUTO_OUTCOME_GRADIENT = [
    ("defaults: cv, photon samples, mode_assignment", {}, "marginal"),
    (
        "classical with outcomes",
        {"generator": {"kind": "classical", "n_outcomes": 4}},
        "marginal",
    ),
    (
        "quadratures only",
        {"generator": {"readout": ["quadratures"]}, "decoder": {"kind": "affine"}},
        "straight_through",
    ),
    ("mean photon readout", {"generator": {"readout": ["mean_photon"]}}, "straight_through"),
    (
        "pack 2",
        {"discriminator": {"pack": 2}, "train": {"batch_size": 64, "eval_samples": 100}},
        "straight_through",
    ),
    (
        "classical without outcomes",
        {"generator": {"kind": "classical", "n_outcomes": 0}, "decoder": {"kind": "mlp"}},
        "straight_through",
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [a[1:] for a in AUTO_OUTCOME_GRADIENT],
    ids=[a[0] for a in AUTO_OUTCOME_GRADIENT],
)
def test_outcome_gradient_defaults_to_marginal_where_it_applies(data, expected):
    """``train.outcome_gradient`` unset (``auto``) is the README's recommended ``marginal``
    where the config allows it, else ``straight_through``; the resolved config (what a run
    directory's config.yaml and ``qgan config show`` hold) names the concrete value."""
    assert parse_config(data).train.outcome_gradient == expected
    assert resolved(data)["train"]["outcome_gradient"] == expected


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_are_unchanged_by_the_defaults_that_change_the_objective(path):
    """Every shipped config names its outcome gradient (so the ``auto`` default changes none
    of them), and its evaluation and checkpoint cadence, set or not, is the one the default
    gives its ``train.steps``."""
    raw = yaml.safe_load(path.read_text())["train"]
    cfg = load_config(path)
    assert cfg.train.outcome_gradient == raw["outcome_gradient"] != "auto"
    every = max(1, cfg.train.steps // 6)
    assert cfg.train.eval_every == raw.get("eval_every", every) == every
    assert cfg.train.checkpoint_every == raw.get("checkpoint_every", every) == every


@pytest.mark.parametrize(("steps", "every"), [(1500, 250), (200, 33), (12, 2), (5, 1), (1, 1)])
def test_evaluation_and_checkpoint_cadence_scale_with_the_steps(steps, every):
    """Unset, ``eval_every`` and ``checkpoint_every`` are ``steps // 6`` (at least 1): six
    evaluations per run whatever its length (a 200-step run is evaluated at 33, 66, ...,
    198 and 200, not once); the resolved config shows the number."""
    cfg = parse_config({"train": {"steps": steps}})
    assert (cfg.train.eval_every, cfg.train.checkpoint_every) == (every, every)
    written = resolved({"train": {"steps": steps}})["train"]
    assert (written["eval_every"], written["checkpoint_every"]) == (every, every)


def test_cadence_follows_a_steps_override_and_explicit_values_are_kept(tmp_path):
    """A ``--steps`` override is applied before validation, so the cadence follows it; values
    set in the file (or by an override) are kept."""
    path = tmp_path / "run.yaml"
    path.write_text("train:\n  steps: 1500\n")
    cfg = load_config(path, overrides={"train.steps": 200})
    assert (cfg.train.eval_every, cfg.train.checkpoint_every) == (33, 33)
    cfg = load_config(path, overrides={"train.steps": 200, "train.eval_every": 7})
    assert (cfg.train.eval_every, cfg.train.checkpoint_every) == (7, 33)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_a_steps_override_scales_the_shipped_configs_cadence(path):
    """The shipped configs leave the cadence to the default, so ``--steps 200`` gets six
    evaluations and checkpoints (every 33 steps), not one at the end."""
    cfg = load_config(path, overrides={"train.steps": 200})
    assert (cfg.train.eval_every, cfg.train.checkpoint_every) == (33, 33)


# (generator / decoder kind, keys that must not be written, keys that must be)
NOT_APPLICABLE = [
    (
        {"generator.kind": "cv"},
        {"generator": {"hidden", "n_outcomes", "n_continuous"}},
        {"generator": {"n_modes", "cutoff", "readout"}},
    ),
    (
        {"generator.kind": "classical", "generator.n_outcomes": 2},
        {
            "generator": {"n_modes", "n_layers", "cutoff", "readout", "backend", "dtype"},
            "decoder": {"hidden"},
        },
        {"generator": {"hidden", "n_outcomes", "n_continuous", "temperature"}},
    ),
    (
        {
            "decoder.kind": "mlp",
            "generator.readout": ["quadratures"],
            "train.outcome_gradient": "straight_through",
        },
        {"decoder": {"n_clusters"}},
        {"decoder": {"hidden"}},
    ),
]


@pytest.mark.parametrize(("overrides", "absent", "present"), NOT_APPLICABLE)
def test_resolved_config_omits_the_keys_of_other_kinds(overrides, absent, present, tmp_path):
    """The resolved config of the reference (a CV generator and mode_assignment decoder,
    which sets ``decoder.hidden``) with the kinds switched by overrides lists only the keys
    the chosen kinds use, and loads back equal: the keys left out are ignored (reset to
    their defaults) by validation."""
    cfg = load_config(REFERENCE, overrides=overrides)
    saved = tmp_path / "config.yaml"
    saved.write_text(dump_config(cfg))
    written = yaml.safe_load(saved.read_text())
    for section, keys in absent.items():
        assert not keys & set(written[section]), section
    for section, keys in present.items():
        assert keys <= set(written[section]), section
    assert load_config(saved) == cfg
    assert set(written["data"]) == {"kind", "n_samples"}  # bimodal takes no other option
