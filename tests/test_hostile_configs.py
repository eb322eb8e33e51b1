"""Hostile configs and flags (issue 14): each is refused by ``qgan train`` / ``qgan classify``
with exit status 2 and exactly one line on stderr naming the key or the file, before
TensorFlow is imported or anything is created on disk.

Each case is a copy of a shipped config with one change (a key set, the file's text or
bytes replaced, or a flag), run in-process with ``qgan.cli.main`` from an empty working
directory. Memory estimates depend on the machine, so ``QGAN_MEMORY_BYTES`` is fixed at
8 GB here: the resource cases are refused at that budget whatever the machine has. One
subprocess test runs a handful of the cases in a fresh interpreter and checks what the
in-process tests cannot: TensorFlow is not imported, peak memory < 2 GB, wall < 10 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import qgan.cli
from qgan._config import SHIPPED, set_keys

INF = float("inf")
MEMORY = 8 * 10**9  # QGAN_MEMORY_BYTES for every case: 8 GB available
TRAIN, CLASSIFY = ("train", "bimodal"), ("classify", "digits_qubit")
CLASSICAL = ("classify", "fashion_mnist_classical")


def _bomb(levels: int = 9, width: int = 9) -> str:
    """A flow list holding a "billion laughs": ``width ** levels`` strings once expanded."""
    items = [f"&a0 [{', '.join(['lol'] * width)}]"]
    items += [f"&a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "[" + ", ".join(items) + "]"


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# (id, (verb, shipped config), change, text the line must contain); a change is a dict
# of dotted keys, ("text", yaml) or ("bytes", raw) for the whole file, ("append", yaml) to
# add at the end, or ("flags", [...]) for the command line
CASES = [
    ("alias bomb in a string field", TRAIN, ("set", "name", _bomb()), "aliases expand"),
    ("alias bomb in a list field", TRAIN, ("set", "discriminator.hidden", _bomb()), "aliases"),
    ("nested 5000 deep", TRAIN, ("set", "discriminator.hidden", _deep(5000)), "nested deeper"),
    ("python tag", TRAIN, ("set", "name", "!!python/object/apply:os.system [ls]"), "tag"),
    ("custom tag", CLASSIFY, ("set", "seed", "!seed 3"), "tag !seed"),
    ("cutoff 200", TRAIN, {"generator.cutoff": 200}, "generator.cutoff"),
    ("n_modes 12", TRAIN, {"generator.n_modes": 12, "train.batch_size": 64}, "generator.n_modes"),
    ("n_modes 40", TRAIN, {"generator.n_modes": 40}, "generator.n_modes"),
    ("n_qubits 20", CLASSIFY, {"model.n_qubits": 20}, "model.n_qubits"),
    ("latent_dim 1e9", TRAIN, {"generator.latent_dim": 10**9}, "generator.latent_dim"),
    ("discriminator 1e9 wide", TRAIN, {"discriminator.hidden": [10**9]}, "discriminator.hidden"),
    ("classifier 1e9 wide", CLASSICAL, {"model.hidden": [10**9]}, "model.hidden"),
    ("n_layers 1e6", TRAIN, {"generator.n_layers": 10**6}, "generator.n_layers"),
    ("depth 1e6", CLASSIFY, {"model.depth": 10**6}, "model.depth"),
    ("d_steps 1e5", TRAIN, {"train.d_steps": 10**5}, "train.d_steps"),
    ("eval_samples 1e10", TRAIN, {"train.eval_samples": 10**10}, "train.eval_samples"),
    ("n_samples 1e12", TRAIN, {"data.n_samples": 10**12}, "data.n_samples"),
    ("n_clusters 1e6", TRAIN, {"decoder.n_clusters": 10**6}, "decoder.n_clusters"),
    ("lr_generator inf", TRAIN, {"train.lr_generator": INF}, "train.lr_generator"),
    ("encoding_scale inf", TRAIN, {"generator.encoding_scale": INF}, "encoding_scale"),
    ("init_std inf", TRAIN, {"generator.init_std": INF}, "generator.init_std"),
    ("temperature inf", TRAIN, {"generator.temperature": INF}, "generator.temperature"),
    ("leakage_penalty inf", TRAIN, {"train.leakage_penalty": INF}, "train.leakage_penalty"),
    ("lr nan", TRAIN, {"train.lr_discriminator": float("nan")}, "train.lr_discriminator"),
    ("learning_rate inf", CLASSIFY, {"train.learning_rate": INF}, "train.learning_rate"),
    ("feature_scale inf", CLASSIFY, {"model.feature_scale": INF}, "model.feature_scale"),
    ("batch_size 1e9", TRAIN, {"train.batch_size": 10**9}, "train.batch_size"),
    ("batch_size 1e12", CLASSIFY, {"train.batch_size": 10**12}, "train.batch_size"),
    ("batch_size float 1e9", TRAIN, {"train.batch_size": 1.0e9}, "train.batch_size"),
    ("empty file", TRAIN, ("text", "# only a comment\n"), "is empty"),
    ("empty classifier file", CLASSIFY, ("text", ""), "is empty"),
    ("undecodable bytes", TRAIN, ("bytes", b"name: x\nseed: \xba\n"), "byte 0xba at line 2"),
    ("syntax error", TRAIN, ("text", "name: [a, b\nseed: 0\n"), "at line 2, column"),
    ("file over 1 MB", TRAIN, ("append", "#" + "x" * 1_100_000 + "\n"), "more than"),
    ("steps -1", TRAIN, ("flags", ["--steps", "-1"]), "--steps"),
    ("epochs 0", CLASSIFY, ("flags", ["--epochs", "0"]), "--epochs"),
]
IDS = [c[0] for c in CASES]


def write_case(folder: Path, workload, change) -> tuple[list[str], Path]:
    """Write the case's config file into ``folder``; returns the ``qgan`` argv and the file."""
    verb, shipped = workload
    path = folder / "hostile.yaml"
    text = (SHIPPED / f"{shipped}.yaml").read_text()
    flags = []
    if isinstance(change, dict):
        data = yaml.safe_load(text)
        set_keys(data, change)
        text = yaml.safe_dump(data, sort_keys=False)
    elif change[0] == "set":  # a key's value replaced by raw YAML text
        data = yaml.safe_load(text)
        set_keys(data, {change[1]: "@@HOSTILE@@"})
        text = yaml.safe_dump(data, sort_keys=False, width=10**9).replace(
            "'@@HOSTILE@@'", change[2]
        )
    elif change[0] == "text":
        text = change[1]
    elif change[0] == "append":
        text += change[1]
    elif change[0] == "flags":
        flags = change[1]
    if isinstance(change, tuple) and change[0] == "bytes":
        path.write_bytes(change[1])
    else:
        path.write_text(text)
    return [verb, str(path), *flags], path


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def hostile_env(tmp_path, monkeypatch):
    """An empty working directory, 8 GB of memory, and TensorFlow's import guarded: a
    config that passed validation would import it, which fails the test (and keeps a
    hostile config that is not refused from starting a run)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QGAN_MEMORY_BYTES", str(MEMORY))

    def no_tensorflow():
        raise AssertionError("validation passed: the run would import TensorFlow and start")

    for verb in ("train", "classify"):
        monkeypatch.setattr(f"qgan.cli.{verb}.import_tensorflow", no_tensorflow)
    return tmp_path


@pytest.mark.parametrize(("name", "workload", "change", "expected"), CASES, ids=IDS)
def test_hostile_config_is_one_line_naming_the_key(
    hostile_env, capsys, name, workload, change, expected
):
    argv, path = write_case(hostile_env, workload, change)
    before = tree(hostile_env)
    try:
        status = qgan.cli.main(argv)
    except SystemExit as exit_:  # argparse's way out (a flag refused before any verb runs)
        status = exit_.code
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert status == 2, (name, err)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"qgan {workload[0]}: error: "), lines[0]
    assert expected in lines[0], lines[0]
    if not isinstance(change, dict) and change[0] not in ("flags",):
        assert str(path) in lines[0] or "hostile.yaml" in lines[0], lines[0]  # names the file
    assert "Traceback" not in err
    assert tree(hostile_env) == before  # nothing created


def test_resource_message_names_the_need_the_budget_and_what_fits(hostile_env, capsys):
    """The issue's example: cutoff 200 on 4 modes at batch 256 needs 200^4 x 256 x 8 bytes
    x (68 gates + 1) = 226 TB (one state kept per gate for the gradient); at 8 GB the
    largest cutoff that fits is 15 (15^4 x 256 x 8 x 69 = 7.2 GB, 16^4: 9.3 GB)."""
    argv, _ = write_case(hostile_env, TRAIN, {"generator.cutoff": 200})
    assert qgan.cli.main(argv) == 2
    line = capsys.readouterr().err.strip()
    assert "a state of 200^4 x 256 complex64 amplitudes" in line
    assert "needs 226 TB, 8.0 GB are available" in line
    assert "the largest cutoff that fits is 15" in line
    assert 15**4 * 256 * 8 * 69 <= MEMORY < 16**4 * 256 * 8 * 69  # the oracle of 15


def test_aliases_within_the_bound_still_load(tmp_path):
    """Anchors and aliases are allowed (a shared block), only their expansion is bounded."""
    from qgan.gan.config import load_config

    path = tmp_path / "anchors.yaml"
    path.write_text(
        "name: anchors\ndiscriminator:\n  hidden: &widths [32, 32]\n"
        "decoder:\n  kind: mlp\n  hidden: *widths\ntrain:\n  outcome_gradient: straight_through\n"
    )
    cfg = load_config(path)
    assert cfg.decoder.hidden == cfg.discriminator.hidden == [32, 32]


@pytest.mark.parametrize("shipped", sorted(p.stem for p in SHIPPED.glob("*.yaml")))
def test_shipped_configs_fit_two_gigabytes(shipped, monkeypatch):
    """The resource checks refuse no shipped config on a 2 GB machine (no change for
    valid configs)."""
    from qgan._config import read_yaml
    from qgan.cli.config import _models, workload

    monkeypatch.setenv("QGAN_MEMORY_BYTES", str(2 * 10**9))
    module, _ = _models()[workload(read_yaml(SHIPPED / f"{shipped}.yaml"))]
    module.load_config(SHIPPED / f"{shipped}.yaml")


SUBPROCESS_CASES = ["cutoff 200", "n_modes 40", "alias bomb in a list field", "nested 5000 deep",
                    "n_qubits 20", "empty file", "steps -1"]  # fmt: skip
PROBE = """
import json, resource, sys, time
t = time.perf_counter()
import qgan.cli
try:
    status = qgan.cli.main(sys.argv[1:])
except SystemExit as exit_:
    status = exit_.code
print(json.dumps({"status": status, "tensorflow": "tensorflow" in sys.modules,
                  "wall": time.perf_counter() - t,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_hostile_config_in_a_fresh_process_imports_no_tensorflow(tmp_path, name):
    """In a fresh interpreter: status 2, one stderr line, TensorFlow never imported, peak
    RSS < 2 GB, < 10 s (wall from interpreter start to the error)."""
    _, workload, change, _ = CASES[IDS.index(name)]
    argv, _ = write_case(tmp_path, workload, change)
    env = {**os.environ, "QGAN_MEMORY_BYTES": str(MEMORY)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert result["tensorflow"] is False
    assert result["peak"] < 2 * 2**30
    assert result["wall"] < 10
