"""Kill/resume and corruption trials of a GAN run; prints one table row per trial.

    python scripts/fault_trials.py [--config configs/bimodal.yaml] [--steps 40] [--seed 0]

Each trial trains a shrunken copy of ``--config`` (2 modes, cutoff 3, ``--steps`` steps,
evaluations and checkpoints every 8) in a child process, faults it (SIGKILL at a random
step, SIGKILL while a checkpoint's temporary folder exists, SIGKILL twice, SIGTERM, SIGINT,
or SIGKILL followed by damage to the run directory), resumes it in this process with
``train(resume=RUN_DIR)`` and compares the finished run with the uninterrupted reference:
``metrics.jsonl`` and ``losses.jsonl`` records (``time_s`` aside), ``generated.npy``. A
trial is *clean* if the resumed run equals the reference, no temporary folder is left and
the run directory was usable (or the damage ended in one line naming a file).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys
from qgan.gan.config import load_config
from qgan.gan.training import train
def report(step, _):
    print(step, flush=True)
if len(sys.argv) > 2:
    train(resume=sys.argv[2], progress=False, on_step=report)
else:
    train(load_config(sys.argv[1]), progress=False, on_step=report)
"""


def shrunk(config: Path, out: Path, steps: int, seed: int):
    from qgan.gan.config import load_config

    return load_config(
        config,
        overrides={
            "generator.n_modes": 2,
            "generator.cutoff": 3,
            "generator.n_layers": 1,
            "generator.latent_dim": 2,
            "generator.sample_modes": [0],
            "train.steps": steps,
            "train.batch_size": 32,
            "train.eval_every": 8,
            "train.checkpoint_every": 8,
            "train.eval_samples": 64,
            "data.n_samples": 500,
            "seed": seed,
            "output.dir": str(out),
        },
    )


def child(config_file: Path, resume: Path | None = None) -> subprocess.Popen:
    args = [sys.executable, "-c", CHILD, str(config_file)] + ([str(resume)] if resume else [])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )


def fault(proc: subprocess.Popen, at: int, sig=signal.SIGKILL, run_root: Path | None = None):
    """Send ``sig`` once the child reports step ``at`` (or, with ``run_root``, once a
    checkpoint's temporary folder appears after that step)."""
    for line in proc.stdout:
        if int(line) >= at:
            break
    if run_root is not None:
        deadline = time.time() + 60
        while time.time() < deadline and not list(run_root.glob("*/checkpoints/.tmp-*")):
            time.sleep(0.0005)
    proc.send_signal(sig)
    proc.wait()


def strip(records):
    return [{k: v for k, v in r.items() if k != "time_s"} for r in records]


def compare(run_dir: Path, ref: Path) -> bool:
    from qgan import _rundir as rundir

    same = all(
        strip(rundir.read_jsonl(run_dir / n)) == strip(rundir.read_jsonl(ref / n))
        for n in ("metrics.jsonl", "losses.jsonl")
    )
    return same and np.array_equal(
        np.load(run_dir / "generated.npy"), np.load(ref / "generated.npy")
    )


def leftovers(run_dir: Path) -> int:
    folder = run_dir / "checkpoints"
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return sum(1 for n in names if n.startswith((".tmp-", ".old-")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "bimodal.yaml")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from qgan import _rundir as rundir
    from qgan.gan.config import dump_config
    from qgan.gan.training import train

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="fault-trials-"))
    ref = train(shrunk(args.config, work / "reference", args.steps, args.seed), progress=False)

    def damage_latest(run_dir):
        (run_dir / "checkpoints" / "latest.json").write_bytes(b"\xff garbage")

    def damage_data(run_dir):
        steps = sorted((run_dir / "checkpoints").glob("step-*"))
        (data,) = steps[-1].glob("ckpt.data-*")
        raw = bytearray(data.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        data.write_bytes(bytes(raw))

    def damage_index(run_dir):
        steps = sorted((run_dir / "checkpoints").glob("step-*"))
        (steps[-1] / "ckpt.index").write_bytes(b"garbage")

    def damage_folder(run_dir):
        shutil.rmtree(sorted((run_dir / "checkpoints").glob("step-*"))[-1])

    def damage_jsonl(run_dir):
        path = run_dir / "metrics.jsonl"
        path.write_bytes(path.read_bytes()[:-7])

    trials = [
        (f"SIGKILL at step {k}", [k], signal.SIGKILL, None, None)
        for k in sorted(rng.sample(range(2, args.steps), 3))
    ]
    trials += [
        ("SIGKILL during a checkpoint write", [7], signal.SIGKILL, "tmp", None),
        ("SIGKILL twice", sorted(rng.sample(range(2, args.steps), 2)), signal.SIGKILL, None, None),
        ("SIGTERM", [rng.randrange(2, args.steps)], signal.SIGTERM, None, None),
        ("SIGINT", [rng.randrange(2, args.steps)], signal.SIGINT, None, None),
        ("SIGKILL + garbled latest.json", [20], signal.SIGKILL, None, damage_latest),
        ("SIGKILL + garbled data file", [20], signal.SIGKILL, None, damage_data),
        ("SIGKILL + garbled index", [20], signal.SIGKILL, None, damage_index),
        ("SIGKILL + missing step folder", [20], signal.SIGKILL, None, damage_folder),
        ("SIGKILL + torn metrics.jsonl line", [20], signal.SIGKILL, None, damage_jsonl),
    ]
    print("| trial | equal to reference | steps redone | .tmp left | unusable | error |")
    print("|---|---|---|---|---|---|")
    for i, (name, points, sig, when, damage) in enumerate(trials):
        out = work / f"trial-{i}"
        config_file = work / f"trial-{i}.yaml"
        config_file.write_text(dump_config(shrunk(args.config, out, args.steps, args.seed)))
        run_dir = None
        for k in points:
            proc = child(config_file, run_dir)
            fault(proc, k, sig, out if when == "tmp" else None)
            run_dir = run_dir or next(out.iterdir())
        left_before = leftovers(run_dir)
        if damage is not None:
            damage(run_dir)
        latest = rundir.latest_checkpoint(run_dir)
        redone = points[-1] - (latest["step"] if latest else 0)
        error = ""
        try:
            train(resume=run_dir, progress=False)
            equal = compare(run_dir, ref.run_dir)
        except ValueError as err:
            equal, error = False, str(err)
        print(
            f"| {name} | {equal} | {redone} | {left_before}->{leftovers(run_dir)} | "
            f"{int(not equal and not error)} | {error} |",
            flush=True,
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
