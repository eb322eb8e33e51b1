"""Output paths checked before a run starts, without creating anything."""

from __future__ import annotations

import os
from pathlib import Path


def check_output_dir(path, key: str = "output.dir") -> Path:
    """``path`` as a ``pathlib.Path`` once it is known that a run directory can be
    created in it; nothing is created.

    If ``path`` exists it must be a writable directory; if not, its nearest existing
    ancestor must be a writable directory (so that ``mkdir(parents=True)`` will succeed).
    "Writable" is ``os.access(W_OK | X_OK)``, which is always true for root. Raises a
    one-line ``ValueError`` naming ``key`` and the path otherwise, e.g.
    ``output.dir 'a/b/runs': 'a/b' is a file, not a directory``.
    """
    if path is None or str(path) == "":
        raise ValueError(f"{key}: expected a directory path, got {path!r}")
    p = Path(os.path.abspath(os.fspath(path)))
    label = f"{key} {os.fspath(path)!r}"
    probe = p
    while not os.path.lexists(probe):
        if probe.parent == probe:  # unreachable on a real filesystem: '/' exists
            raise ValueError(f"{label}: no existing folder above it")
        probe = probe.parent
    where = "" if probe == p else f"{str(probe)!r} "
    if not probe.is_dir():
        kind = "a broken link" if probe.is_symlink() and not probe.exists() else "a file"
        if probe == p:
            raise ValueError(f"{label}: is {kind}, not a directory")
        raise ValueError(f"{label}: {where}is {kind}, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        if probe == p:
            raise ValueError(f"{label}: the directory is not writable")
        raise ValueError(f"{label}: cannot be created, {where}is not writable")
    return p
