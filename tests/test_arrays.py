"""Specification of ``qgan._arrays``: ``.npy``/``.npz`` files are judged by their headers
before anything is allocated, and values are checked in the dtype the run computes in.

Oracles: ``np.load`` (what a well-formed file holds), headers written by hand with
``numpy.lib.format.write_array_header_1_0`` / ``_2_0`` (what a hostile file claims), and
``tracemalloc`` (NumPy reports its buffers to it) for "nothing was allocated": a refused
file of 16 TB claimed costs under 1 MB of peak traced memory.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npformat

from qgan._arrays import check_values, load_npy, load_npz
from qgan._resources import human

LABEL = "data.path 'x'"
PEAK_BYTES = 1_000_000  # traced peak allowed while refusing a file (headers, messages)


def header_bytes(shape, descr="<f8", version=(1, 0), fortran=False) -> bytes:
    """A ``.npy`` header claiming ``shape`` of ``descr``, written by hand (no array)."""
    buffer = io.BytesIO()
    d = {"descr": descr, "fortran_order": fortran, "shape": tuple(shape)}
    if version == (1, 0):
        npformat.write_array_header_1_0(buffer, d)
    else:
        npformat.write_array_header_2_0(buffer, d)
    return buffer.getvalue()


def refused(fn, *args, match: str, **kwargs) -> str:
    """The one-line message ``fn`` raises, checked to start with ``LABEL`` and match ``match``,
    with the traced peak memory of the call under ``PEAK_BYTES``."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match) as info:
            fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "\n" not in message and message.startswith(LABEL), message
    assert peak < PEAK_BYTES, f"{peak} bytes traced while refusing"
    return message


# --------------------------------------------------------------------------- .npy


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12.0).reshape(3, 4),
        np.arange(12, dtype=np.uint8).reshape(4, 3),
        np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        np.array([[True, False]]),
        np.zeros((0, 2), np.float32),
    ],
    ids=["float64", "uint8", "fortran int32", "bool", "empty"],
)
def test_well_formed_files_load_as_np_load_does(tmp_path, array):
    np.save(tmp_path / "a.npy", array)
    got = load_npy(tmp_path / "a.npy", LABEL)
    expected = np.load(tmp_path / "a.npy")
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_header_claiming_1e12_rows_is_refused_before_allocation(tmp_path, version):
    path = tmp_path / "huge.npy"
    path.write_bytes(header_bytes((10**12, 2), version=version) + b"\0" * 64)
    message = refused(load_npy, path, LABEL, ndim=2, match="more than the .* available")
    assert "(1000000000000, 2)" in message and "32 TB" in message  # 1e12*2*(8+8) bytes


def test_memory_bound_is_the_callers_when_given(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((100, 10)))  # 8 kB, 16 kB with its float64 copy
    assert load_npy(tmp_path / "a.npy", LABEL, max_bytes=16_000).shape == (100, 10)
    refused(load_npy, tmp_path / "a.npy", LABEL, max_bytes=15_999, match="16 kB of memory")


def test_truncated_file_is_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((100, 2)))
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(data[:-9])
    refused(load_npy, tmp_path / "a.npy", LABEL, match="truncated: the header promises 1600 bytes")
    # a header whose claim fits the memory bound but not the file
    (tmp_path / "b.npy").write_bytes(header_bytes((10**6, 2)) + b"\0" * 8)
    refused(load_npy, tmp_path / "b.npy", LABEL, max_bytes=10**9, match="truncated")


@pytest.mark.parametrize(
    ("descr", "match"),
    [
        ("|O", "Python objects .*never loaded"),
        ("<U3", "holds <U3 data, expected real numbers"),
        ("<c16", "holds complex128 data, expected real numbers"),
        ([("a", "<f8"), ("b", "<f8")], "expected real numbers"),
    ],
    ids=["object", "text", "complex", "structured"],
)
def test_non_numeric_dtypes_are_refused_from_the_header(tmp_path, descr, match):
    (tmp_path / "a.npy").write_bytes(header_bytes((10**9, 2), descr=descr) + b"\0" * 16)
    refused(load_npy, tmp_path / "a.npy", LABEL, match=match)


def test_wrong_rank_is_refused_from_the_header(tmp_path):
    (tmp_path / "a.npy").write_bytes(header_bytes((10**9,)))
    refused(load_npy, tmp_path / "a.npy", LABEL, ndim=2, match=r"\(1000000000,\), expected 2-D")
    (tmp_path / "b.npy").write_bytes(header_bytes((10**9, 2, 2, 2)))
    refused(load_npy, tmp_path / "b.npy", LABEL, ndim=(2, 3), match="expected 2-D or 3-D")


@pytest.mark.parametrize(
    "content", [b"", b"not numpy at all", b"\x93NUMPY\x01\x00\xff\xff{garbled"]
)
def test_garbage_is_one_line(tmp_path, content):
    (tmp_path / "a.npy").write_bytes(content)
    refused(load_npy, tmp_path / "a.npy", LABEL, match="not a readable .npy array")


# --------------------------------------------------------------------------- .npz


def npz_with(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(f"{name}.npy", data)
    return path


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_npz_round_trip(tmp_path):
    a, b = np.arange(6.0).reshape(2, 3), np.arange(2)
    np.savez_compressed(tmp_path / "z.npz", images=a, labels=b)
    got = load_npz(tmp_path / "z.npz", LABEL, ("images", "labels"))
    np.testing.assert_array_equal(got["images"], a)
    np.testing.assert_array_equal(got["labels"], b)


def test_npz_member_claiming_1e12_rows_is_refused(tmp_path):
    path = npz_with(
        tmp_path / "z.npz",
        {"images": header_bytes((10**12, 28, 28), descr="|u1") + b"\0" * 100, "labels": b""},
    )
    message = refused(load_npz, path, LABEL, ("images", "labels"), match="array 'images'")
    assert "more than the" in message and "available" in message


def test_npz_bound_covers_all_members_together(tmp_path):
    path = npz_with(tmp_path / "z.npz", {"a": npy(np.zeros(100)), "b": npy(np.zeros(100))})
    assert len(load_npz(path, LABEL, ("a", "b"), max_bytes=3200)) == 2  # 2 x (800 + 800)
    refused(load_npz, path, LABEL, ("a", "b"), max_bytes=3199, match="array 'b'.*more than")


def test_truncated_npz_member_is_refused(tmp_path):
    short = npy(np.zeros((100, 28, 28), np.uint8))[:-50]
    path = npz_with(tmp_path / "z.npz", {"images": short, "labels": npy(np.arange(100))})
    refused(load_npz, path, LABEL, ("images", "labels"), match="array 'images'.*truncated")


def test_corrupt_compressed_member_is_one_line(tmp_path):
    path = tmp_path / "z.npz"
    np.savez_compressed(path, images=np.random.default_rng(0).random((50, 50)))
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    refused(load_npz, path, LABEL, ("images",), match="truncated or corrupt")


def test_truncated_zip_and_missing_arrays(tmp_path):
    np.savez(tmp_path / "z.npz", images=np.zeros((4, 4)))
    data = (tmp_path / "z.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    refused(load_npz, tmp_path / "cut.npz", LABEL, ("images",), match="not a readable .npz")
    refused(load_npz, tmp_path / "z.npz", LABEL, ("images", "labels"), match="no array 'labels'")


def test_object_member_is_never_unpickled(tmp_path):
    path = tmp_path / "z.npz"
    np.savez(path, images=np.array([[1, None]], dtype=object), labels=np.arange(1))
    refused(load_npz, path, LABEL, ("images", "labels"), match="Python objects")


# --------------------------------------------------------------------------- values


def test_float64_beyond_float32_is_refused_naming_the_count_and_maximum():
    x = np.array([[0.0, 1e300], [2.0, 3.0]])
    with pytest.raises(ValueError) as info:
        check_values(x, LABEL, np.float32)
    assert str(info.value).startswith(f"{LABEL}: 1 value overflows float32 (max |x| 1e+300")
    assert np.isinf(x.astype(np.float32)).any()  # the oracle: float32 makes it inf
    check_values(x, LABEL, np.float64)  # fine where the run computes in float64
    ok = np.array([[np.finfo(np.float32).max, -np.finfo(np.float32).max]], np.float64)
    check_values(ok, LABEL, np.float32)


def test_nan_and_inf_name_count_and_first_position():
    x = np.zeros((3, 2))
    x[1, 1], x[2, 0] = np.nan, -np.inf
    with pytest.raises(
        ValueError, match=r"^data.path 'x': has 2 NaN/inf entries \(first at row 1, "
    ):
        check_values(x, LABEL)
    check_values(np.array([[2**62]], np.int64), LABEL)  # integers are always finite


def test_default_bound_is_qgan_memory_bytes(tmp_path, monkeypatch):
    np.save(tmp_path / "a.npy", np.zeros((100, 10)))  # 16 kB with its float64 copy
    monkeypatch.setenv("QGAN_MEMORY_BYTES", "15999")
    refused(load_npy, tmp_path / "a.npy", LABEL, match=f"more than the {human(15_999)} available")
    monkeypatch.setenv("QGAN_MEMORY_BYTES", "16000")
    assert load_npy(tmp_path / "a.npy", LABEL).shape == (100, 10)


# --------------------------------------------------------------------------- through the CLI


PROBE = (
    "import sys; from qgan.cli import main; code = main(sys.argv[1:]); "
    "print('tensorflow' in sys.modules); sys.exit(code)"
)


def _cli(argv) -> tuple[int, str, str]:
    """``qgan ARGV`` in a fresh interpreter; stdout ends with whether TensorFlow was imported."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _hostile_files(folder):
    """``{name: path}`` of crafted data files: headers claiming 1e12 rows, float64 1e300."""
    (folder / "huge.npy").write_bytes(header_bytes((10**12, 2)) + b"\0" * 64)
    np.save(folder / "big.npy", np.array([[1e300, 0.0], [1.0, 2.0]] * 50))
    (folder / "bad.csv").write_bytes(b"x,y\n1,2\n3,\xba4\n")
    images = header_bytes((10**12, 28, 28), descr="|u1") + b"\0" * 100
    npz_with(folder / "huge.npz", {"images": images, "labels": npy(np.arange(3))})
    return {p.name: p for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("verb", "name", "expected"),
    [
        ("train", "huge.npy", "more than the"),
        ("train", "big.npy", "50 values overflow float32 (max |x| 1e+300"),
        ("train", "bad.csv", "not UTF-8 text at line 3"),
        ("classify", "huge.npz", "array 'images': shape (1000000000000, 28, 28)"),
    ],
)
def test_cli_refuses_hostile_data_in_one_line_before_tensorflow(tmp_path, verb, name, expected):
    import yaml

    root = Path(__file__).resolve().parents[1]
    files = tmp_path / "files"
    files.mkdir()
    path = _hostile_files(files)[name]
    shipped = "bimodal" if verb == "train" else "fashion_mnist_qubit"
    cfg = yaml.safe_load((root / "configs" / f"{shipped}.yaml").read_text())
    if verb == "train":
        cfg["data"] = {"kind": "file", "path": str(path), "n_samples": 100}
    else:
        cfg["data"]["path"] = str(path)
        cfg["data"].pop("full", None)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out_dir = tmp_path / "runs"
    code, out, err = _cli([verb, config, "--output-dir", out_dir, "--quiet"])
    assert code == 2 and out == "False\n", err  # refused before TensorFlow is imported
    assert err.startswith(f"qgan {verb}: error: ") and err.count("\n") == 1, err
    assert "data.path" in err and repr(str(path)) in err and expected in err, err
    assert not out_dir.exists()


def test_cli_refuses_a_hostile_evaluation_file_before_tensorflow(tmp_path):
    import yaml

    root = Path(__file__).resolve().parents[1]
    path = _hostile_files(tmp_path)["huge.npz"]
    config = tmp_path / "c.yaml"
    config.write_text((root / "configs" / "fashion_mnist_qubit.yaml").read_text())
    out_dir = tmp_path / "runs"
    argv = ["classify", config, "--evaluate", path, "--output-dir", out_dir, "--quiet"]
    code, out, err = _cli(argv)
    assert yaml.safe_load(config.read_text())["data"].get("path") is None  # packaged data
    assert code == 2 and out == "False\n", err
    assert err.startswith(f"qgan classify: error: evaluation file {str(path)!r} array 'images'")
    assert err.count("\n") == 1 and not out_dir.exists()
