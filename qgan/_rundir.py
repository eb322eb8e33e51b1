"""Run directories: layout, JSON-lines logs and atomic checkpoints.

Layout of ``<output.dir>/<name>-<timestamp>/``::

    config.yaml          the resolved config (every default filled in)
    metrics.jsonl        one line per evaluation
    losses.jsonl         one line per ``log_every`` steps (mean losses)
    metrics.json         final metrics, timings and parameter counts
    generated.npy        the final evaluation's generated points
    checkpoints/         step-<7-digit step>/ (TF checkpoints), latest.json, final/
    tensorboard/         TensorBoard event files
    samples.png, losses.png, metrics.png, report.md

Checkpoints are written to a temporary folder and renamed into place, and ``latest.json``
is replaced atomically after the rename, so a kill at any moment leaves the previous
checkpoint usable.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import yaml

from qgan._io import write_text_atomic

CONFIG_FILE = "config.yaml"  # the resolved config, written when the run starts
FINAL_FILE = "metrics.json"  # the final record, written when the run finishes


def new_run_dir(root, name: str) -> Path:
    """Create ``root/<name>-<YYYYmmdd-HHMMSS>[-k]`` and return it."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        path = root / (f"{name}-{stamp}" if k == 0 else f"{name}-{stamp}-{k}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise ValueError(f"could not create a run directory under {root}")


def read_finished_run(run_dir) -> tuple[dict, dict]:
    """``(config mapping, final record)`` of a finished run: its ``config.yaml`` and
    ``metrics.json`` parsed (YAML and JSON), nothing validated beyond being mappings.

    One-line ``ValueError`` naming the directory if it is not a run directory (no
    ``config.yaml``), has not finished (no ``metrics.json``), or a file does not parse.
    """
    run_dir = Path(run_dir)
    config_path, final_path = run_dir / CONFIG_FILE, run_dir / FINAL_FILE
    if not config_path.is_file():
        raise ValueError(f"{str(run_dir)!r} is not a run directory (no {CONFIG_FILE})")
    if not final_path.is_file():
        raise ValueError(f"{str(run_dir)!r} has no {FINAL_FILE}: the run has not finished")
    try:
        cfg, final = yaml.safe_load(config_path.read_text()), json.loads(final_path.read_text())
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{str(run_dir)!r}: unreadable run files ({type(err).__name__})") from None
    if not isinstance(cfg, dict) or not isinstance(final, dict):
        raise ValueError(f"{str(run_dir)!r}: {CONFIG_FILE} and {FINAL_FILE} must be mappings")
    return cfg, final


def append_jsonl(path: Path, record: dict) -> None:
    """Append one JSON line (flushed and fsynced: a finished line survives a kill)."""
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_jsonl(path: Path) -> list[dict]:
    """Records of a JSON-lines file; a torn last line (killed mid-write) is dropped."""
    if not Path(path).exists():
        return []
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records


def truncate_jsonl(path: Path, max_step: int) -> None:
    """Keep only records with ``step <= max_step`` (after resuming from that step)."""
    if Path(path).exists():
        kept = [r for r in read_jsonl(path) if r.get("step", 0) <= max_step]
        write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in kept))


def _write_tmp(checkpoint, tmp: Path) -> None:
    """``checkpoint.write`` into the fresh folder ``tmp``, removed again if the write fails."""
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        checkpoint.write(str(tmp / "ckpt"))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename the written folder ``tmp`` to ``final``; an existing ``final`` is moved aside
    first and removed only after the rename (a kill in between leaves both on disk)."""
    if final.exists():
        old = final.parent / f".old-{final.name}-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def save_checkpoint(checkpoint, run_dir: Path, step: int, extra: dict, keep: int = 2) -> Path:
    """Write ``checkpoint`` (a ``tf.train.Checkpoint``) as ``checkpoints/step-<step>``.

    ``extra`` (JSON) is stored in ``latest.json`` beside the path. Older step folders
    beyond the newest ``keep`` are removed.
    """
    folder = Path(run_dir) / "checkpoints"
    folder.mkdir(exist_ok=True)
    name = f"step-{step:07d}"
    tmp = folder / f".tmp-{name}-{os.getpid()}"
    _write_tmp(checkpoint, tmp)
    final = folder / name
    _move_into_place(tmp, final)
    write_text_atomic(
        folder / "latest.json", json.dumps({"step": step, "path": f"{name}/ckpt", **extra})
    )
    steps = sorted(p for p in folder.glob("step-*") if p.is_dir())
    for old in steps[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def save_named_checkpoint(checkpoint, run_dir: Path, name: str) -> Path:
    """Write ``checkpoints/<name>/ckpt`` atomically (e.g. ``final``)."""
    folder = Path(run_dir) / "checkpoints"
    folder.mkdir(exist_ok=True)
    tmp = folder / f".tmp-{name}-{os.getpid()}"
    _write_tmp(checkpoint, tmp)
    final = folder / name
    _move_into_place(tmp, final)
    return final / "ckpt"


def latest_checkpoint(run_dir: Path) -> dict | None:
    """``latest.json`` of a run (``step``, ``path`` relative to checkpoints/, extras) or None."""
    path = Path(run_dir) / "checkpoints" / "latest.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())
