"""Specification of a sweep's trials (``qgan.sweep.trials``): configs x ``--set`` values x
seeds, every trial validated by its config's own loader before anything runs; stable ids
(a re-run finds its trials again; a changed config is a new trial). No Ray, no TF."""

from __future__ import annotations

import pytest
import yaml

from qgan.gan.config import load_config
from qgan.sweep.trials import expand_trials, parse_set, split_values, workload


def test_parse_set_reads_yaml_values():
    assert parse_set("train.steps=5,10") == ("train.steps", [5, 10])
    assert parse_set("train.lr_generator=1e-3,0.01") == ("train.lr_generator", [1e-3, 0.01])
    assert parse_set("generator.readout=[mean_photon, quadratures],[quadratures]") == (
        "generator.readout",
        [["mean_photon", "quadratures"], ["quadratures"]],
    )
    assert split_values("a, b ,[c, d]") == ["a", "b", "[c, d]"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("train.steps", "expected KEY=V1,V2"),
        ("=5", "expected KEY=V1,V2"),
        ("train.steps=", "one or more"),
        ("train.steps=1,,2", "one or more"),
        ("seed=1,2", "use --seeds"),
        ("output.dir=a", "use --runs-dir"),
    ],
)
def test_parse_set_refuses_malformed_options(text, match):
    with pytest.raises(ValueError, match=match):
        parse_set(text)


def test_trials_are_the_product_in_order(tmp_path, configs):
    path = configs.gan(tmp_path)
    specs = expand_trials(
        [path], [0, 1], ["train.steps=2,3", "generator.cutoff=3,4"], runs_dir=tmp_path / "r"
    )
    assert len(specs) == 2 * 2 * 2
    assert [s.seed for s in specs[:2]] == [0, 1]
    assert specs[0].overrides == {"train.steps": 2, "generator.cutoff": 3}
    assert specs[0].setting == "train.steps=2 generator.cutoff=3"
    assert len({s.trial_id for s in specs}) == len(specs)
    assert all(s.config["output"]["dir"] == str((tmp_path / "r").resolve()) for s in specs)
    # the trial's config is the one `qgan train CONFIG --seed S` with the overrides loads
    expected = load_config(
        path,
        {"train.steps": 3, "generator.cutoff": 4, "seed": 1, "output.dir": str(tmp_path / "r")},
    )
    assert specs[-1].config == {
        **expected.model_dump(mode="json"),
        "output": {**expected.output.model_dump(mode="json"), "dir": str(tmp_path / "r")},
    }


def test_ids_are_stable_and_follow_the_config(tmp_path, configs):
    path = configs.gan(tmp_path)
    first = [s.trial_id for s in expand_trials([path], [0, 1])]
    assert first == [s.trial_id for s in expand_trials([path], [0, 1])]
    assert first == [s.trial_id for s in expand_trials([path], [0, 1], runs_dir=tmp_path / "x")]
    data = yaml.safe_load(path.read_text())
    data["train"]["lr_generator"] = 0.5
    path.write_text(yaml.safe_dump(data))
    assert not set(first) & {s.trial_id for s in expand_trials([path], [0, 1])}


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ("train.stepz=2", r"^--set train.stepz=2: config key train.stepz: unknown key$"),
        ("nosuch.key=2", r"^--set nosuch.key=2: config key nosuch: unknown key$"),
        ("train.steps=2,x", r"^--set train.steps=x: config key train.steps: .*'x'"),
        ("train.steps=0", r"^--set train.steps=0: config key train.steps: .*"),
    ],
)
def test_a_bad_key_or_value_is_one_line_naming_it(tmp_path, configs, option, match):
    path = configs.gan(tmp_path)
    with pytest.raises(ValueError, match=match) as err:
        expand_trials([path], [0], [option])
    assert "\n" not in str(err.value)
    assert not (tmp_path / "runs").exists()


def test_inputs_are_checked_before_anything_runs(tmp_path, configs):
    path = configs.gan(tmp_path, kind="file", path="missing.npy")
    with pytest.raises(ValueError, match="data.path"):
        expand_trials([path], [0])
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="output.dir"):
        expand_trials([configs.gan(tmp_path, "ok")], [0], runs_dir=tmp_path / "file" / "runs")


def test_classifier_configs_are_their_own_workload(tmp_path, configs):
    gan, clf = configs.gan(tmp_path), configs.classifier(tmp_path)
    specs = expand_trials([gan, clf], [3], ["train.batch_size=32"])
    assert [s.workload for s in specs] == ["gan", "classify"]
    assert specs[1].config["seed"] == 3 and specs[1].config["model"]["kind"] == "qubit"
    assert workload({"model": {}}) == "classify" and workload({"generator": {}}) == "gan"
    with pytest.raises(ValueError, match="workload"):
        workload({"name": "x"})


def test_a_seed_twice_is_refused(tmp_path, configs):
    with pytest.raises(ValueError, match="--seeds"):
        expand_trials([configs.gan(tmp_path)], [1, 1])
