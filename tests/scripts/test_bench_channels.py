"""Specification of ``scripts/bench/channels.py``: the before/after comparison runs the
same measurement on the baseline revision's package (extracted with ``git archive``) and on
this tree's, in fresh processes, and reports ratios that are quotients of the medians; the
mixed-state table has one row per ``generator.loss_at`` placement, relative to the lossless
generator; a bad baseline revision or config is a one-line error before anything runs.
Timings are never asserted.
"""

from __future__ import annotations

import json

import pytest

CONFIG = "configs/bimodal.yaml"


@pytest.fixture(scope="module")
def channels(load_bench):
    return load_bench("channels")


@pytest.mark.slow  # two child processes and four generator traces (about a minute)
def test_report_compares_both_packages_and_prices_each_loss_placement(
    channels, tmp_path, monkeypatch
):
    monkeypatch.chdir(channels.ROOT)
    out = tmp_path / "bench"
    argv = ["--baseline-rev", "HEAD", "--rounds", "1", "--repeats", "1"]
    argv += ["--mixed-batch", "2", "--out", str(out)]
    assert channels.main(argv) == 0
    result = json.loads(out.with_suffix(".json").read_text())
    assert result["command"] == "python scripts/bench/channels.py " + " ".join(argv)

    steps = result["pure_path"]["steps"]
    assert list(steps) == [
        "engine compiled @256",
        "engine compiled @16",
        "engine eager @256",
        "generator fwd+bwd @256",
    ]
    for row in steps.values():
        assert len(row["before_all_us"]) == len(row["after_all_us"]) == 1
        assert row["after_over_before"] == pytest.approx(row["after_us"] / row["before_us"])
        assert row["paired_ratio_min"] == pytest.approx(row["after_over_before"])

    rows = result["mixed_state"]
    assert [r["loss_at"] for r in rows] == list(channels.LOSS_PLACEMENTS)
    for row in rows:
        assert row["batch_size"] == 2
        assert row["us_per_sample"] == pytest.approx(row["median_s"] / 2 * 1e6)
        assert row["over_pure"] == pytest.approx(row["us_per_sample"] / rows[0]["us_per_sample"])
    text = out.with_suffix(".md").read_text()
    assert f"`{result['command']}`" in text.splitlines()[2]


def test_unknown_baseline_revision_is_a_one_line_error(channels, capsys, monkeypatch):
    monkeypatch.chdir(channels.ROOT)
    with pytest.raises(SystemExit) as exit_info:
        channels.main(["--baseline-rev", "no-such-revision-0123"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --baseline-rev: no commit 'no-such-revision-0123' in " + str(
        channels.ROOT
    )


def test_bad_config_is_a_one_line_error_naming_it(channels, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("generator:\n  cutoff: one\n")
    with pytest.raises(SystemExit) as exit_info:
        channels.main(["--config", str(bad), "--rounds", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "cutoff" in err
