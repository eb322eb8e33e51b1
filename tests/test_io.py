"""Specification of ``qgan._io``: atomic writes leave the old file or the new one, never a
half-written one or a stray temporary file, with the permissions a plain ``open`` gives."""

from __future__ import annotations

import os

import numpy as np
import pytest

from qgan._io import npy_bytes, write_bytes_atomic, write_text_atomic


def test_writes_and_replaces(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    write_text_atomic(path, "one")
    write_text_atomic(path, "two")
    assert path.read_text() == "two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]


def test_permissions_are_those_of_a_plain_open(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    atomic = write_bytes_atomic(tmp_path / "atomic", b"x")
    assert (atomic.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777)


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = write_text_atomic(tmp_path / "a.txt", "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.array([[1.5, -2.0]], dtype=np.float64),
        np.zeros((0, 2), dtype=np.float32),
        np.array(3, dtype=np.int64),
        np.array([1 + 2j], dtype=np.complex64),
    ],
)
def test_npy_bytes_are_the_file_numpy_saves(tmp_path, array):
    """Oracle: ``np.save`` to a file; the bytes are the same and load back equal."""
    np.save(tmp_path / "ref.npy", array)
    data = npy_bytes(array)
    assert data == (tmp_path / "ref.npy").read_bytes()
    back = np.load(write_bytes_atomic(tmp_path / "a.npy", data))
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_npy_bytes_refuses_pickled_objects():
    with pytest.raises(ValueError, match="pickle"):
        npy_bytes(np.array([{"a": 1}], dtype=object))
