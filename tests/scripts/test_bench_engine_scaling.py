"""Specification of ``scripts/bench/engine_scaling.py`` on a tiny circuit (2 modes,
cutoff 3, batch 4) and the bimodal generator at cutoff 3: one row per shape with both
engine layouts timed, statistics that follow their definitions, the speed-up is the
quotient of the two medians, the stated memory is the engine's own figure, bad shapes are
one-line argparse errors, and the report records the command. Timings are never asserted.
"""

from __future__ import annotations

import pytest

from qgan import _resources
from qgan.profiling.reference import reference_program


@pytest.fixture(scope="module")
def scaling(load_bench):
    return load_bench("engine_scaling")


@pytest.fixture(scope="module")
def rows(scaling):
    return scaling.bench_circuit([(2, 3, 4)], repeats=2)


def test_one_row_per_shape_with_both_layouts(rows):
    (row,) = rows
    assert (row["n_modes"], row["cutoff"], row["batch_size"]) == (2, 3, 4)
    for layout in ("batch-first", "batch-last"):
        r = row[layout]
        assert r["us_per_sample"] == pytest.approx(r["median_ms"] / 4 * 1e3)
        assert r["iqr_ms"] >= 0 and r["first_call_s"] > 0
    assert row["speed_up"] == pytest.approx(
        row["batch-first"]["us_per_sample"] / row["batch-last"]["us_per_sample"]
    )


def test_stated_memory_is_the_engines_own_figure(rows):
    prog, _, _ = reference_program(2, 2)
    expected = _resources.state_bytes(3**2, 4, 8, len(prog.circuit)) / 2**20
    assert rows[0]["stated_mb"] == pytest.approx(expected)


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_report_lists_generator_and_circuit_rows(scaling, tmp_path, capsys):
    out = tmp_path / "scaling"
    argv = ["--shapes", "2x3x4", "--generator-cutoffs", "3", "--repeats", "1", "--out", str(out)]
    assert scaling.main(argv) == 0
    text = (tmp_path / "scaling.md").read_text()
    assert "python scripts/bench/engine_scaling.py --shapes 2x3x4" in text
    assert "| 4 | 3 | 256 |" in text  # the bimodal generator (4 modes) at cutoff 3
    assert "| 2 | 3 | 4 |" in text


@pytest.mark.parametrize("shape", ["8x4", "8x1x16", "ax4x16"])
def test_bad_shapes_are_one_line_errors(scaling, shape, capsys):
    with pytest.raises(SystemExit):
        scaling.main(["--shapes", shape])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--shapes" in err and shape in err
