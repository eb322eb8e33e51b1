"""Array files read through their headers: ``.npy`` and ``.npz`` checked before allocation.

:func:`load_npy` and :func:`load_npz` read a ``.npy`` header (``numpy.lib.format``:
magic, then the version 1.0 or 2.0 header) before any data, and refuse in one line naming
the file, without allocating the array: object dtypes (pickles are never loaded),
non-real dtypes (strings, complex, structured), a wrong rank, an array whose working size
exceeds a memory bound, and a file (or ``.npz`` member) shorter than its header says.
:func:`check_values` checks values in the dtype a run computes in (NaN/inf, and finite
numbers that overflow ``float32``). Errors are ``ValueError("<label>: ...")`` where the
caller's ``label`` names the config key and file, e.g. ``data.path 'x.npy'``. The memory
bound defaults to :func:`qgan._resources.available_memory` (``QGAN_MEMORY_BYTES`` if set).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from math import prod
from pathlib import Path

import numpy as np
from numpy.lib import format as npformat

from qgan._resources import available_memory, human

#: dtype kinds read as numbers: bool, signed and unsigned integers, floats
REAL_KINDS = "biuf"
#: bytes per element of the float64 working copy both workloads make of loaded data
WORKING_ITEMSIZE = 8


@dataclass(frozen=True)
class ArrayHeader:
    """What a ``.npy`` header says: ``shape``, ``dtype``, ``fortran_order``, and ``offset``
    (bytes from the start of the file to the data)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    offset: int

    @property
    def size(self) -> int:
        """Number of elements (a Python int: no overflow for any header)."""
        return prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes of data the header promises."""
        return self.size * self.dtype.itemsize


def read_header(f, label: str) -> ArrayHeader:
    """The header of the ``.npy`` stream ``f`` (positioned at its start), read and checked:
    a real numeric dtype (:data:`REAL_KINDS`), never objects. Leaves ``f`` at the data."""
    try:
        version = npformat.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = npformat.read_array_header_2_0(f)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} is not read")
    except (ValueError, EOFError, OSError, SyntaxError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise ValueError(f"{label}: not a readable .npy array ({reason})") from None
    if dtype.hasobject:
        raise ValueError(
            f"{label}: holds Python objects (dtype {dtype}), which are never loaded (pickles); "
            "expected a numeric array"
        )
    if dtype.kind not in REAL_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"{label}: holds {dtype} data, expected real numbers")
    return ArrayHeader(tuple(int(s) for s in shape), dtype, bool(fortran), int(f.tell()))


def check_header(
    header: ArrayHeader,
    label: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    available: int | None = None,
    max_bytes: int | None = None,
) -> None:
    """Refuse ``header`` before its array exists, in this order: a rank other than ``ndim``
    (an int or the allowed ranks); a working size (the data plus a float64 copy) over
    ``max_bytes`` (default: :func:`qgan._resources.available_memory`); a
    truncated file, holding ``available`` bytes of data (if known) where the header
    promises more."""
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(header.shape) not in allowed:
            ranks = " or ".join(f"{r}-D" for r in allowed)
            hint = (
                " (for 1-D data save shape (n, 1))"
                if allowed == (2,) and len(header.shape) == 1
                else ""
            )
            raise ValueError(
                f"{label}: holds an array of shape {header.shape}, expected {ranks}{hint}"
            )
    bound = available_memory() if max_bytes is None else max_bytes
    need = header.nbytes + header.size * WORKING_ITEMSIZE
    if bound is not None and need > bound:
        raise ValueError(
            f"{label}: shape {header.shape} of {header.dtype} needs {human(need)} of "
            f"memory to load (with its float64 copy), more than the {human(bound)} "
            "available"
        )
    if available is not None and available < header.nbytes:
        raise ValueError(
            f"{label}: truncated: the header promises {header.nbytes} bytes of data "
            f"(shape {header.shape}, {header.dtype}), the file holds {available}"
        )


def load_npy(
    path, label: str, *, ndim: int | tuple[int, ...] | None = None, max_bytes: int | None = None
) -> np.ndarray:
    """The array of the ``.npy`` file ``path``, its header checked first (:func:`check_header`:
    rank ``ndim``, ``max_bytes``, the file's size); one-line ``ValueError`` with ``label``."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            header = read_header(f, label)
            size = os.fstat(f.fileno()).st_size
            check_header(
                header, label, ndim=ndim, available=size - header.offset, max_bytes=max_bytes
            )
            f.seek(0)
            return _read_data(f, label)
    except OSError as err:
        raise ValueError(f"{label}: cannot read ({err.strerror or err})") from None


def load_npz(
    path,
    label: str,
    names: tuple[str, ...],
    *,
    ndim: dict[str, int | tuple[int, ...]] | None = None,
    max_bytes: int | None = None,
) -> dict[str, np.ndarray]:
    """Arrays ``names`` of the ``.npz`` file ``path``: every member's header read and checked
    (:func:`check_header`; ``ndim`` maps a name to its rank; ``max_bytes`` bounds all of
    them together) before any is loaded. One-line ``ValueError`` with ``label`` for a file
    that is not a zip archive, a missing array (listing those present), a truncated or
    corrupt member."""
    path = Path(path)
    ndim = ndim or {}
    bound = available_memory() if max_bytes is None else max_bytes
    try:
        with zipfile.ZipFile(path) as archive:
            members = {n[: -len(".npy")]: n for n in archive.namelist() if n.endswith(".npy")}
            missing = [n for n in names if n not in members]
            if missing:
                raise ValueError(
                    f"{label}: has no array {missing[0]!r} (it has {sorted(members)}; "
                    f"expected {', '.join(repr(n) for n in names)})"
                )
            left = bound
            for name in names:
                info = archive.getinfo(members[name])
                with archive.open(info) as f:
                    header = read_header(f, f"{label} array {name!r}")
                check_header(
                    header,
                    f"{label} array {name!r}",
                    ndim=ndim.get(name),
                    available=info.file_size - header.offset,
                    max_bytes=left,
                )
                if left is not None:
                    left -= header.nbytes + header.size * WORKING_ITEMSIZE
            arrays = {}
            for name in names:
                with archive.open(members[name]) as f:
                    arrays[name] = _read_data(f, f"{label} array {name!r}")
            return arrays
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise ValueError(
            f"{label}: not a readable .npz file (truncated or corrupt: {reason})"
        ) from None
    except OSError as err:
        raise ValueError(f"{label}: cannot read ({err.strerror or err})") from None


def _read_data(f, label: str) -> np.ndarray:
    """The array of the checked ``.npy`` stream ``f`` (at its start); a short read is one line."""
    try:
        return npformat.read_array(f, allow_pickle=False)
    except (ValueError, EOFError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise ValueError(f"{label}: truncated or corrupt data ({reason})") from None


def check_values(array: np.ndarray, label: str, dtype=np.float32) -> None:
    """Refuse NaN/inf entries of ``array`` (``[n, ...]``, numbers) and finite values that
    overflow ``dtype`` (the dtype the run computes in): one line with ``label``, the count
    and the first offending index (row, column for 2-D)."""
    x = np.asarray(array)
    if x.dtype.kind != "f":
        return  # bool and integer values are finite; every integer dtype fits float32
    bad = ~np.isfinite(x)
    if bad.any():
        first = ", ".join(str(int(i)) for i in np.argwhere(bad)[0])
        where = f"row {first.replace(', ', ', column ', 1)}" if x.ndim == 2 else f"index {first}"
        raise ValueError(
            f"{label}: has {int(bad.sum())} NaN/inf entries (first at {where}), "
            "expected finite numbers"
        )
    limit = np.finfo(dtype).max
    if np.finfo(x.dtype).max > limit:
        over = np.abs(x) > limit
        count = int(over.sum())
        if count:
            s = "" if count == 1 else "s"
            verb = "overflows" if count == 1 else "overflow"
            raise ValueError(
                f"{label}: {count} value{s} {verb} {np.dtype(dtype).name} "
                f"(max |x| {float(np.abs(x).max()):.3g}, largest {np.dtype(dtype).name} "
                f"{float(limit):.3g})"
            )
