"""Specification of ``scripts/bench/engine_levers.py``: the real-block product equals the
complex one before it is timed, and so does the beamsplitter applied per photon-number
sector (whose sectors hold each two-mode state once, and whose nonzero share is counted by
the sector sizes), each ratio is baseline time / lever time, the XLA row
reports both first calls and the two losses agree (complex64 rounding, 1e-3), the report
records its command, bad shapes are one-line argparse errors. Timings are never asserted.
"""

from __future__ import annotations

import json

import pytest
from tiny_configs import tiny_gan


@pytest.fixture(scope="module")
def levers(load_bench):
    return load_bench("engine_levers")


def test_real_block_product_is_checked_and_timed_against_complex(levers):
    (row,) = levers.real_arithmetic([(3, 8)], repeats=2)
    assert (row["m"], row["n"]) == (3, 8)
    assert row["max_abs_difference"] < 1e-5  # float32 rounding of a 3-term sum
    assert row["ratio"] == pytest.approx(row["complex64_ms"] / row["real_ms"])


def test_beamsplitter_per_photon_number_sector_equals_the_dense_product(levers):
    (row,) = levers.number_sectors([(3, 8)], repeats=1, chain=2)
    assert (row["cutoff"], row["n"], row["chain"]) == (3, 8, 2)
    # sectors N = 0..4 of two modes at cutoff 3 hold 1, 2, 3, 2, 1 states: 19 of 81 entries
    assert row["nonzero_share"] == pytest.approx(19 / 81)
    assert row["max_abs_difference"] < 1e-6  # complex64 sums of at most 3 terms
    for part in ("forward", "forward_backward"):
        times = row[part]
        assert times["ratio"] == pytest.approx(times["dense_ms"] / times["sector_ms"])


def test_sector_slots_list_each_two_mode_state_once_by_photon_number(levers):
    slots, position = levers._sector_slots(4)
    d = 4
    for total in range(2 * d - 1):
        rows = [int(r) for r in slots[total] if r < d * d]
        assert all(r // d + r % d == total for r in rows)
        assert [int(position[r]) for r in rows] == [total * d + s for s in range(len(rows))]
    assert sorted(int(r) for r in slots.reshape(-1) if r < d * d) == list(range(d * d))


@pytest.mark.slow  # one XLA compilation of a tiny generator (~10 s)
def test_report_times_the_generator_with_and_without_xla(levers, tmp_path):
    config = tiny_gan(tmp_path)
    out = tmp_path / "levers"
    argv = ["--config", str(config), "--cutoffs", "3", "--gemm-shapes", "2x4"]
    argv += ["--sector-shapes", "2x4", "--repeats", "1"]
    assert levers.main([*argv, "--out", str(out)]) == 0
    result = json.loads(out.with_suffix(".json").read_text())
    assert result["command"] == "python scripts/bench/engine_levers.py " + " ".join(
        [*argv, "--out", str(out)]
    )
    (row,) = result["xla"]
    assert (row["cutoff"], row["batch_size"]) == (3, 32)
    assert row["ratio"] == pytest.approx(row["plain_us_per_sample"] / row["xla_us_per_sample"])
    assert row["first_call_s"]["plain"] > 0 and row["first_call_s"]["xla"] > 0
    assert row["loss_difference"] < 1e-3
    (sectors,) = result["number_sectors"]
    assert (sectors["cutoff"], sectors["n"]) == (2, 4)
    assert "## XLA" in out.with_suffix(".md").read_text()
    assert "## Photon-number sectors" in out.with_suffix(".md").read_text()


@pytest.mark.parametrize("shape", ["16", "0x4", "ax4"])
def test_bad_gemm_shapes_are_one_line_errors(levers, shape, capsys):
    with pytest.raises(SystemExit):
        levers.main(["--gemm-shapes", shape])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--gemm-shapes" in err and shape in err
