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
checkpoint usable. Each step folder also holds ``state.json`` (the loop state of
``latest.json``), so a resume can fall back to the previous step folder when the newest is
damaged (:func:`checkpoint_candidates`). Temporary folders a kill left behind
(``.tmp-*``, ``.old-*``) are removed by :func:`sweep_temporary` on resume and at the end.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

import yaml

from qgan._io import write_text_atomic

CONFIG_FILE = "config.yaml"  # the resolved config, written when the run starts
FINAL_FILE = "metrics.json"  # the final record, written when the run finishes
STATE_FILE = "state.json"  # in each step folder: the loop state saved with it
LATEST_FILE = "latest.json"  # in checkpoints/: the newest step folder and its state

log = logging.getLogger("qgan.rundir")


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
    """Records of a JSON-lines file; a torn line (killed mid-write, or garbled) is dropped,
    wherever it is (:func:`torn_after` says where the first one was)."""
    return [r for r in _jsonl_lines(path) if r is not None]


def _jsonl_lines(path: Path) -> list[dict | None]:
    """Each line of a JSON-lines file parsed, ``None`` for a line that is not a JSON
    object (torn or garbled bytes included)."""
    lines = []
    for line in _raw_lines(path):
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        lines.append(record if isinstance(record, dict) else None)
    return lines


def torn_after(path: Path) -> int | None:
    """``None`` if every line of ``path`` is a whole record; else the last step whose
    records are known good: the step before the one a torn line names (its beginning
    ``{"step": N`` is whole), or else the step of the last whole record before it (0 when
    the first line is torn). A resume must restart from a step no later than that."""
    last = 0
    for line, record in zip(_raw_lines(path), _jsonl_lines(path), strict=True):
        if record is None:
            named = re.match(rb'\{"step": (\d+)[,}]', line)
            return int(named.group(1)) - 1 if named else last
        last = int(record.get("step", last))
    return None


def _raw_lines(path: Path) -> list[bytes]:
    return Path(path).read_bytes().splitlines() if Path(path).exists() else []


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
    record = json.dumps({"step": step, "path": f"{name}/ckpt", **extra})
    write_text_atomic(tmp / STATE_FILE, record)
    final = folder / name
    _move_into_place(tmp, final)
    write_text_atomic(folder / LATEST_FILE, record)
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


def sweep_temporary(run_dir: Path) -> list[Path]:
    """Remove the temporary folders a killed write left under ``checkpoints/`` (``.tmp-*``,
    ``.old-*``) and the temporary files of atomic writes (``.<name>.*.tmp``, in the run
    directory and ``checkpoints/``); the removed paths, logged once. Only call it while
    holding the run's lock (:mod:`qgan._lock`): a live writer's temporary folder would go
    too."""
    run_dir = Path(run_dir)
    folder = run_dir / "checkpoints"
    found = []
    if folder.is_dir():
        found = [p for p in folder.iterdir() if p.name.startswith((".tmp-", ".old-"))]
    for where in (run_dir, folder):  # write_bytes_atomic's temporary files
        if where.is_dir():
            found += [p for p in where.glob(".*.tmp") if p.is_file()]
    removed = sorted(set(found))
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if removed:
        log.info(
            "removed %d temporary file(s) left by an interrupted write: %s",
            len(removed),
            ", ".join(p.name for p in removed),
        )
    return removed


def _read_record(path: Path) -> dict | None:
    """A JSON object file parsed, or ``None`` (warned, naming it) if it does not parse."""
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("step"), int):
            raise ValueError("not a checkpoint record")
        return record
    except (OSError, UnicodeDecodeError, ValueError) as err:
        log.warning("%s is unreadable (%s); ignoring it", path, type(err).__name__)
        return None


def checkpoint_candidates(run_dir: Path) -> list[dict]:
    """The step checkpoints of a run a resume may start from, newest first: records of
    ``latest.json``'s form (``step``, ``path`` relative to checkpoints/, loop state).

    Each step folder's ``state.json`` is its record; ``latest.json`` adds the newest step
    of a run written before step folders held one. A garbled ``latest.json`` or
    ``state.json``, or a step folder without its ``ckpt.index``, is left out with a warning
    naming the file. Whether the checkpoint's data reads is for the caller to find out
    (TensorFlow) -- the next candidate is the fallback.
    """
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    by_step: dict[int, dict] = {}
    for step_dir in sorted(folder.glob("step-*"), reverse=True):
        if not step_dir.is_dir() or not (step_dir / STATE_FILE).exists():
            continue
        record = _read_record(step_dir / STATE_FILE)
        if record is None:
            continue
        if not (step_dir / "ckpt.index").is_file():
            log.warning("%s is missing; skipping that checkpoint", step_dir / "ckpt.index")
            continue
        by_step[record["step"]] = record
    latest_path = folder / LATEST_FILE
    if latest_path.exists():
        latest = _read_record(latest_path)
        if latest is not None and latest["step"] not in by_step:
            if (folder / f"{latest['path']}.index").is_file():
                by_step[latest["step"]] = latest
            else:
                log.warning(
                    "%s names %s, which is missing; falling back to an earlier checkpoint",
                    latest_path,
                    folder / latest["path"],
                )
    return [by_step[k] for k in sorted(by_step, reverse=True)]


def latest_checkpoint(run_dir: Path) -> dict | None:
    """The newest usable checkpoint record (``step``, ``path`` relative to checkpoints/,
    extras) of :func:`checkpoint_candidates`, or None."""
    candidates = checkpoint_candidates(run_dir)
    return candidates[0] if candidates else None
