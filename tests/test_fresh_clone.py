"""A fresh clone runs every command the README shows (issue 12).

``test_every_readme_command_has_a_shrunken_form`` reads README.md: every line of its
``bash`` blocks and every inline code span that is a whole ``qgan ...`` or
``python scripts/...`` command must match exactly one rule of ``RULES`` (a README command
without one fails here, so the README cannot grow a command nobody runs).

``test_fresh_clone_runs_every_readme_command`` (slow) clones the committed HEAD of this
repository (``git clone --depth 1 file://...``) into a temporary folder with no sibling
folders, as a user has it, and runs each rule's shrunken form there (tiny circuits, a step
or an epoch, few repeats): the ``qgan`` entry point and the scripts of the current
environment with ``PYTHONPATH`` at the clone, so the clone's package and its package data
are what runs. The README's Python examples run as they are. Each command is checked by its
exit status and one observable result, and a failure names the README command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from commands import qgan_command

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300  # per command; the whole clone run takes about 3 minutes on 2 cores


def readme_commands(text: str) -> list[str]:
    """The command lines README.md shows, comments stripped: lines of ```bash blocks and
    inline code spans that are a whole ``qgan ...`` or ``python scripts/...`` command."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        placeholder = re.search(r"\b[A-Z][A-Z_]{2,}\b", span)  # a synopsis: qgan train CONFIG
        output = re.match(r"^qgan \w+: ", span)  # what a command prints: qgan train: error: ...
        if re.match(r"^(qgan [a-z]|python scripts/)", span) and not (placeholder or output):
            commands.append(span.strip())
    return list(dict.fromkeys(commands))  # each once, in order


def readme_python_examples(text: str) -> list[str]:
    """The ```python blocks of README.md, in order."""
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@dataclass(frozen=True)
class Rule:
    """README commands matching ``pattern`` run as ``argv`` (None: not run, ``why`` says
    why); ``{tiny_gan}`` and the like are filled in by the clone run."""

    pattern: str
    argv: str | None
    why: str = ""


# One shrunken run serves README commands that differ only in flags it can combine; a
# command runs once however many README lines share its shrunken form.
TRAIN = "qgan train {tiny_gan} --seed 3 --json"
PROFILE = (
    "qgan profile {tiny_gan} {profile_small} --quality --quality-steps 1 "
    "--targets scripts/bench/targets.toml --out reports/tiny_profile"
)
BENCH = (
    "python scripts/bench/engine.py --cutoff 3 --layers 1 --modes 2 --batch-size 8 "
    "--sf-batch-size 2 --repeats 2 --sf-repeats 1 --no-piquasso --out reports/tiny_bench"
)
NOT_RUN_SUITE = "the test suite and CI: this test is part of them"
RULES = [
    Rule(
        r"python -m venv \.venv .*pip install -e \. && qgan train configs/bimodal\.yaml",
        None,
        "installing: the clone runs with this environment's install; "
        "qgan train configs/bimodal.yaml runs below",
    ),
    Rule(r"python -m venv \.venv .*pip install -e \"\.\[test\]\" && pytest", None, NOT_RUN_SUITE),
    Rule(r"^pytest( -m \"not slow\")?$", None, NOT_RUN_SUITE),
    Rule(r"^\.ci/run$", None, NOT_RUN_SUITE),
    Rule(r"^pip install -e \"\.\[test\]\"$", None, "installing"),
    Rule(r"^ruff check \.$", "ruff check --no-cache ."),
    Rule(r"^qgan train configs/bimodal\.yaml$", TRAIN),
    Rule(r"^qgan train configs/bimodal\.yaml --seed 3 --json$", TRAIN),
    Rule(r"^qgan train --resume runs/\S+$", "qgan train --resume {json_run} --quiet"),
    Rule(
        r"^qgan train --resume runs/\S+ --steps \d+$",
        "qgan train --resume {json_run} --steps 3 --quiet",
    ),
    Rule(
        r"^qgan sample runs/\S+ -n 5000 -o samples\.csv$",
        "qgan sample {json_run} -n 50 -o samples.csv",
    ),
    Rule(
        r"^qgan sample runs/\S+ -n 5000 -o best\.npy --checkpoint best$",
        "qgan sample {json_run} -n 50 -o samples.npy --checkpoint best",
    ),
    Rule(
        r"^python scripts/train\.py configs/bimodal\.yaml$",
        "python scripts/train.py {tiny_gan} --quiet",
    ),
    Rule(
        r"^(qgan sweep|python scripts/sweep\.py) configs/\S+( configs/\S+)* --seeds 0-4"
        r"( --cpus-per-trial \d+( --max-concurrent \d+)?)? --out reports/\S+( --resume)?$",
        "python scripts/sweep.py {tiny_gan} {tiny_classical} --seeds 0 "
        "--out reports/tiny_sweep --runs-dir runs/sweeps",
    ),
    Rule(
        r"^qgan sweep configs/\S+ --seeds \S+ --set \S+=\S+ --out reports/\S+$",
        "qgan sweep {tiny_gan} --seeds 0 --set train.steps=1,2 --out reports/tiny_sweep_set "
        "--runs-dir runs/sweeps_set",
    ),
    Rule(r"^qgan profile configs/bimodal\.yaml$", PROFILE),
    Rule(
        r"^qgan profile configs/bimodal\.yaml --batch-sizes \S+ --cutoffs \S+ --layers \S+ "
        r"--quality$",
        PROFILE,
    ),
    Rule(r"^qgan profile configs/bimodal\.yaml --targets scripts/bench/targets\.toml$", PROFILE),
    Rule(r"^qgan profile configs/bimodal\.yaml --out reports/profile_bimodal$", PROFILE),
    Rule(
        r"^python scripts/profile\.py configs/bimodal\.yaml --out reports/profile_bimodal$",
        "python scripts/profile.py {tiny_gan} {profile_small} --repeats 1 "
        "--out reports/tiny_profile_script",
    ),
    Rule(r"^qgan report runs/\S+$", "qgan report {json_run}"),
    Rule(
        r"^qgan report --compare reports/\S+\.json reports/\S+\.json$",
        "qgan report --compare reports/tiny_sweep.json reports/tiny_sweep_set.json",
    ),
    Rule(
        r"^qgan report --compare runs/\S+ runs/\S+$",
        "qgan report --compare {sweep_run} {sweep_classical_run}",
    ),
    Rule(
        r"^qgan classify configs/fashion_mnist_qubit\.yaml$", "qgan classify {tiny_fashion_qubit}"
    ),
    Rule(
        r"^qgan classify configs/fashion_mnist_classical\.yaml$",
        "qgan classify {tiny_fashion_classical}",
    ),
    Rule(r"^qgan classify configs/digits_qubit\.yaml$", "qgan classify {tiny_digits_qubit}"),
    Rule(
        r"^qgan classify configs/fashion_mnist_hybrid\.yaml$", "qgan classify {tiny_hybrid} --quiet"
    ),
    Rule(
        r"^python scripts/classify_results\.py configs/fashion_mnist_hybrid\.yaml "
        r"configs/fashion_mnist_hybrid_classical\.yaml --seeds 0-4 --readme '' "
        r"--out reports/classify_hybrid$",
        "python scripts/classify_results.py {tiny_hybrid} {tiny_hybrid_classical} --readme= "
        "--out reports/tiny_classify_hybrid --runs-dir runs/classify_results",
    ),
    Rule(
        r"^qgan classify configs/digits_qubit_qng\.yaml$",
        "qgan classify {tiny_digits_qubit_qng} --quiet",
    ),
    Rule(r"^qgan train configs/bimodal_qubit_disc\.yaml$", "qgan train {tiny_qubit_disc} --quiet"),
    Rule(
        r"^qgan classify configs/fashion_mnist_qubit\.yaml --evaluate other\.npz$",
        "qgan classify {tiny_fashion_qubit} --evaluate other.npz --json",
    ),
    Rule(
        r"^python scripts/classify_results\.py( --seeds 0-4)?$",
        "python scripts/classify_results.py {tiny_fashion_qubit} {tiny_fashion_classical} "
        "--readme= --out reports/tiny_classify_results --runs-dir runs/classify_results",
    ),
    Rule(
        r"^python scripts/classify\.py configs/fashion_mnist_qubit\.yaml$",
        "python scripts/classify.py {tiny_fashion_qubit} --quiet",
    ),
    Rule(
        r"^qgan ionq compile configs/fashion_mnist_qubit\.yaml --gateset aria$",
        "qgan ionq compile configs/fashion_mnist_qubit.yaml --gateset aria",
    ),
    Rule(
        r"^qgan ionq compile runs/<run> --input 3 --qasm circuit\.qasm$",
        "qgan ionq compile {classify_run} --input 3 --qasm circuit.qasm",
    ),
    Rule(
        r"^qgan ionq estimate configs/fashion_mnist_qubit\.yaml --shots 1000$",
        "qgan ionq estimate configs/fashion_mnist_qubit.yaml --shots 1000",
    ),
    Rule(
        r"^qgan ionq estimate configs/fashion_mnist_qubit\.yaml --shots 1000 --gradient spsa$",
        "qgan ionq estimate configs/fashion_mnist_qubit.yaml --shots 1000 --gradient spsa",
    ),
    Rule(
        r"^python scripts/ionq_demo\.py$",
        "python scripts/ionq_demo.py --circuits 2 --shots 100 --run-dir runs/ionq_demo",
    ),
    Rule(r"^qgan ionq status runs/<run>$", "qgan ionq status runs/ionq_demo"),
    Rule(r"^python scripts/bench/engine\.py( --out reports/\S+)?$", BENCH),
    Rule(
        r"^python scripts/bench/engine_overview\.py( --out reports/\S+)?$",
        None,
        "the engine's figures in one run, SF at batch 256 included (about 6 minutes); "
        "tests/scripts/test_bench_engine_overview.py runs it on tiny circuits",
    ),
    Rule(
        r"^python scripts/bench/qubit\.py( --out reports/\S+)?$",
        None,
        "needs the [bench] extra (PennyLane, JAX), not part of the test install",
    ),
    Rule(
        r"^python scripts/bench/sweep\.py( --out reports/\S+)?$",
        None,
        "four timed ways of making four bimodal runs (20 minutes); "
        "tests/scripts/test_bench_sweep.py makes the same four ways of a shrunken run",
    ),
    Rule(
        r"^python scripts/fault_trials\.py$",
        None,
        "twelve kill/corruption trials of a training run (minutes); tests/gan/test_faults.py "
        "runs the same cases on a shrunken run",
    ),
    Rule(r"^qgan demo$", "qgan demo --cutoff 3 --layers 1 --modes 2 --batch-size 8 --sf-samples 2"),
    Rule(r"^qgan config list$", "qgan config list"),
    Rule(r"^qgan config reference$", "qgan config reference"),
    # a shipped config's name resolves as `qgan config show` resolves it (no training here)
    Rule(r"^qgan (config show|train) bimodal$", "qgan config show bimodal"),
    Rule(r"^pip install -e \"\.\[docs\]\"$", None, "installing"),
    Rule(
        r"^mkdocs (serve|build --strict)$",
        None,
        "the site build: .ci/run's docs phase and tests/test_docs.py (with the docs extra)",
    ),
]


def rule_of(command: str) -> list[Rule]:
    return [rule for rule in RULES if re.search(rule.pattern, command)]


# One interpreter runs a stage's commands (each as the ``qgan`` entry point or ``python
# scripts/...`` would: ``qgan.cli.main(argv)`` or the script run as ``__main__``), with each
# command's output captured and its exit status recorded, then writes them as JSON.
DRIVER = """
import contextlib, io, json, os, runpy, sys, time, traceback
from qgan.cli import main
argvs_path, outcomes_path = sys.argv[1:3]
outcomes = []
for argv in json.load(open(argvs_path)):
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if argv[0] == "qgan":
                code = main(argv[1:])
            else:
                sys.argv = argv[1:]
                # as `python SCRIPT` does: the script's folder first on the import path
                sys.path.insert(0, os.path.dirname(os.path.abspath(argv[1])))
                try:
                    runpy.run_path(argv[1], run_name="__main__")
                finally:
                    sys.path.pop(0)
                code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (stop.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
    outcomes.append({"code": int(code or 0), "stdout": out.getvalue(),
                     "stderr": err.getvalue(), "seconds": time.perf_counter() - start})
json.dump(outcomes, open(outcomes_path, "w"))
"""


def run_in_one_interpreter(batch, cwd: Path, env: dict, scratch: Path):
    """``(command, argv, outcome)`` for each ``(command, argv)`` of ``batch``, run in order
    in one fresh interpreter in ``cwd``; ``outcome`` has ``code``, ``stdout``, ``stderr``
    and ``seconds``."""
    if not batch:
        return []
    argvs = scratch / "argvs.json"
    outcomes = scratch / "outcomes.json"
    argvs.write_text(json.dumps([argv for _, argv in batch]))
    outcomes.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(argvs), str(outcomes)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S * len(batch),
    )
    assert outcomes.is_file(), (
        f"the interpreter running {[c for c, _ in batch]} died ({result.returncode}):\n"
        f"{result.stderr[-3000:]}"
    )
    return [(c, a, o) for (c, a), o in zip(batch, json.loads(outcomes.read_text()))]


def test_every_readme_command_has_a_shrunken_form():
    commands = readme_commands((ROOT / "README.md").read_text())
    assert any(c.startswith("qgan classify") for c in commands)  # the parser finds them
    for command in commands:
        matches = rule_of(command)
        assert len(matches) == 1, f"README command {command!r} matches {len(matches)} rules"


# ------------------------------------------------------------------------- the clone run


def _tiny_gan(source: Path, out: Path, name: str) -> str:
    data = yaml.safe_load(source.read_text())
    data["name"] = name
    if data["generator"].get("kind", "cv") == "cv":
        data["generator"].update(n_modes=2, cutoff=3, n_layers=1, latent_dim=2, sample_modes=[0])
    data["train"].update(steps=2, batch_size=32, eval_every=2, checkpoint_every=2, eval_samples=64)
    data["data"]["n_samples"] = 300
    data["output"]["tensorboard"] = False  # seconds of TF summary writing; tests/cli cover it
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(out.relative_to(out.parents[1]))


def _tiny_classifier(source: Path, out: Path) -> str:
    data = yaml.safe_load(source.read_text())
    data["data"]["n_samples"] = 100
    data["train"].update(epochs=1, batch_size=32)
    if data["model"]["kind"] == "qubit":
        data["model"].update(n_qubits=4, depth=1)
    if data["model"]["kind"] == "hybrid":
        data["model"].update(depth=1)
    data["output"]["plots"] = False
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(out.relative_to(out.parents[1]))


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed: cannot clone the repository")
    home = tmp_path_factory.mktemp("fresh")  # nothing beside the clone: no ../shared
    target = home / "qgan"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{ROOT}", str(target)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert sorted(p.name for p in home.iterdir()) == ["qgan"]
    return target


@pytest.mark.slow
def test_fresh_clone_runs_every_readme_command(clone, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(clone),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MPLBACKEND": "Agg",
    }
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    def run(argv: list[str], what: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            argv, cwd=clone, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
        assert result.returncode == 0, (
            f"README command {what!r} (run as {' '.join(argv)}) exited {result.returncode}:\n"
            f"{result.stdout[-1500:]}\n{result.stderr[-3000:]}"
        )
        return result

    where = run([sys.executable, "-c", "import qgan; print(qgan.__file__)"], "import qgan")
    assert Path(where.stdout.strip()).is_relative_to(clone), where.stdout

    configs = clone / "configs"
    tiny = {
        "tiny_gan": _tiny_gan(configs / "bimodal.yaml", configs / "tiny_bimodal.yaml", "bimodal"),
        "tiny_classical": _tiny_gan(
            configs / "bimodal_classical.yaml", configs / "tiny_classical.yaml", "classical"
        ),
        "tiny_fashion_qubit": _tiny_classifier(
            configs / "fashion_mnist_qubit.yaml", configs / "tiny_fashion_qubit.yaml"
        ),
        "tiny_fashion_classical": _tiny_classifier(
            configs / "fashion_mnist_classical.yaml", configs / "tiny_fashion_classical.yaml"
        ),
        "tiny_digits_qubit": _tiny_classifier(
            configs / "digits_qubit.yaml", configs / "tiny_digits_qubit.yaml"
        ),
        "tiny_digits_qubit_qng": _tiny_classifier(
            configs / "digits_qubit_qng.yaml", configs / "tiny_digits_qubit_qng.yaml"
        ),
        "tiny_hybrid": _tiny_classifier(
            configs / "fashion_mnist_hybrid.yaml", configs / "tiny_hybrid.yaml"
        ),
        "tiny_hybrid_classical": _tiny_classifier(
            configs / "fashion_mnist_hybrid_classical.yaml", configs / "tiny_hybrid_classical.yaml"
        ),
        "tiny_qubit_disc": _tiny_gan(
            configs / "bimodal_qubit_disc.yaml", configs / "tiny_qubit_disc.yaml", "qubit_disc"
        ),
        "profile_small": "--batch-sizes 8 --cutoffs 3 --layers 1 --repeats 2 --warmup 1 "
        "--sf-repeats 1 --sf-loop-samples 1",
    }
    # a file to score with --evaluate: 20 of the packaged images (the clone's own copy)
    import numpy as np

    with np.load(clone / "qgan/classify/datasets/fashion_mnist_800.npz") as archive:
        np.savez(clone / "other.npz", images=archive["images"][:20], labels=archive["labels"][:20])

    def stage(command: str) -> int:
        """Runs that later commands read come first (--json's run: sample, resume,
        report; the sweep's runs: report --compare; the classifier run scored with --evaluate:
        ionq compile RUN_DIR; the demo's jobs: ionq status)."""
        if command.endswith("--json") or "--evaluate" in command:
            return 0
        if re.match(r"^(qgan sweep|python scripts/sweep\.py) ", command):
            return 0
        return 2 if "ionq status" in command else 1

    commands = readme_commands((clone / "README.md").read_text())
    ran, seconds = [], {}
    planned: dict[int, list[tuple[str, list[str]]]] = {0: [], 1: [], 2: []}
    seen: list[list[str]] = []
    for command in sorted(commands, key=stage):
        (rule,) = rule_of(command)
        if rule.argv is not None:
            planned[stage(command)].append((command, rule.argv))

    def check(command: str, argv: list[str], code: int, stdout: str, stderr: str) -> None:
        assert code == 0, (
            f"README command {command!r} (run as {' '.join(argv)}) exited {code}:\n"
            f"{stdout[-1500:]}\n{stderr[-3000:]}"
        )
        if argv[1:2] == ["train"] and "--json" in argv:
            record = json.loads(stdout)
            tiny["json_run"] = record["run_dir"]
            assert (clone / record["run_dir"] / "report.md").is_file(), command
        if argv[1].endswith("scripts/sweep.py"):
            runs = sorted(p.parent for p in (clone / "runs/sweeps").rglob("metrics.json"))
            names = {p.name.rsplit("-", 2)[0]: p.relative_to(clone) for p in runs}
            tiny["sweep_run"], tiny["sweep_classical_run"] = names["bimodal"], names["classical"]
            assert (clone / "reports/tiny_sweep.md").is_file(), command
        if argv[1:2] == ["classify"] and "--evaluate" in argv:
            record = json.loads(stdout)
            assert record["n_eval"] == 20, command
            tiny["classify_run"] = record["run_dir"]  # compiled by `qgan ionq compile RUN_DIR`
            assert "fashion_mnist_800.npz" in record["data_source"], command
        if "classify_results" in argv[1]:
            assert (clone / "reports/tiny_classify_results.md").is_file(), command
        if argv[1:2] == ["sweep"]:
            assert json.loads((clone / "reports/tiny_sweep_set.json").read_text())["swept"] == [
                "train.steps"
            ], command
        if argv[1:3] == ["config", "show"]:
            assert yaml.safe_load(stdout)["name"] == "bimodal", command
        if argv[1:3] == ["config", "list"]:
            assert stdout.split()[0] == "bimodal", command
        if argv[1:3] == ["config", "reference"]:
            assert "| `train.steps` |" in stdout, command
        if argv[1:2] == ["sample"] and argv[-1] == "samples.csv":
            assert np.loadtxt(clone / "samples.csv", delimiter=",", skiprows=1).shape == (50, 2)
        elif argv[1:2] == ["sample"]:
            assert np.load(clone / "samples.npy").shape == (50, 2), command
        if argv[1:3] == ["ionq", "compile"] and "--qasm" in argv:
            assert (clone / "circuit.qasm").read_text().startswith("// Generated from Cirq")

    # The first command runs through the installed ``qgan`` entry point in its own process;
    # the others of a stage share one interpreter (one TensorFlow import instead of one per
    # command: about 5 s each on 2 cores), calling what the entry point and the scripts call.
    for number in sorted(planned):
        batch = []
        for command, template in planned[number]:
            argv = template.format(**tiny).split()
            if argv in seen:  # README lines sharing one shrunken form run it once
                ran.append(command)
                continue
            seen.append(argv)
            if argv[0] not in ("qgan", "python"):  # another tool (ruff): its own process
                result = run(argv, command)
                check(command, argv, result.returncode, result.stdout, result.stderr)
                ran.append(command)
                continue
            batch.append((command, argv))
        if number == 0:  # the training run the later commands read: a real `qgan` process
            (first,) = [i for i, (_, argv) in enumerate(batch) if argv[:2] == ["qgan", "train"]]
            command, argv = batch.pop(first)
            start = time.perf_counter()
            result = run([*qgan_command(), *argv[1:]], command)
            seconds[command] = time.perf_counter() - start
            check(command, argv, result.returncode, result.stdout, result.stderr)
            ran.append(command)
        for command, argv, outcome in run_in_one_interpreter(batch, clone, env, tmp_path):
            seconds[command] = outcome["seconds"]
            check(command, argv, outcome["code"], outcome["stdout"], outcome["stderr"])
            ran.append(command)
    assert "qgan classify configs/fashion_mnist_qubit.yaml" in ran
    assert (clone / "reports" / "tiny_profile.md").is_file()
    assert not (clone.parent / "shared").exists()

    # The README's Python examples as they are, one after the other in one interpreter
    # (one TensorFlow import); the Profiler example continues the CVGenerator one (it uses
    # its gen, dec and z).
    examples = []
    for code in readme_python_examples((clone / "README.md").read_text()):
        if "prof = Profiler()" in code:
            examples[-1] += "\n" + code
        else:
            examples.append(code)
    paths = []
    for i, code in enumerate(examples):
        paths.append(clone / f"readme_example_{i}.py")
        paths[-1].write_text(code)
    driver = (
        "import runpy, sys\n"
        "for path in sys.argv[1:]:\n"
        "    print('README python example', path, flush=True)\n"
        "    runpy.run_path(path, run_name='__main__')\n"
    )
    start = time.perf_counter()
    run([sys.executable, "-c", driver, *map(str, paths)], "the README's python examples")
    seconds["python examples"] = time.perf_counter() - start
    for command, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"{s:6.1f} s  {command}")
