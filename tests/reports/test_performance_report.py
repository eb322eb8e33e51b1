"""Specification of ``qgan.reports.performance``: the report of ``qgan profile``.

The report is rendered from synthetic profiles whose every measurement is a distinct
random number (the structure is that of ``qgan.profiling.performance.profile``; the CLI test
renders a real one). Checked:

* structure: the command line first, then machine, versions and date; every section in
  order (the Targets section only with targets); every target, stage, batch row, sweep
  point, SF row and matmul shape; the plots written as PNGs and linked; a JSON twin that
  holds the profile as measured;
* provenance: the printed figures are the measured ones (each stage row shows its own
  median; the overhead row is the step minus the stage sum), and nothing printed is a
  constant: of two profiles with the same settings and different measurements, every number
  that prints the same in both reports is a setting, a config value, a machine fact or a
  target bound, never a measurement.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from qgan.profiling.performance import check_targets
from qgan.profiling.profiler import Profiler, format_ms
from qgan.profiling.step import STAGES, summarise_step
from qgan.reports.performance import SECTIONS, render, report_paths, write_profile_report

with open(Path(__file__).resolve().parents[2] / "scripts" / "bench" / "targets.toml", "rb") as f:
    TARGETS = tomllib.load(f)["profile"]
TARGET_CIRCUIT = TARGETS["circuit"]

COMMAND = "qgan profile configs/bimodal.yaml --repeats 5 --out reports/profile_bimodal"
SETTINGS = {
    "batch_sizes": [1, 16, 256],
    "cutoffs": [3, 4],
    "layers": [1, 2],
    "repeats": 5,
    "warmup": 2,
    "quality": True,
    "quality_steps": 40,
    "sf_repeats": 2,
    "sf_loop_samples": 3,
}
CONFIG = {
    "name": "bimodal",
    "n_modes": 4,
    "n_layers": 2,
    "cutoff": 4,
    "latent_dim": 4,
    "encoding": "displacement",
    "readout": ["photon_samples", "quadratures"],
    "dtype": "complex64",
    "decoder": "mode_assignment",
    "discriminator_hidden": [64, 64],
    "batch": 256,
    "d_steps": 1,
    "loss": "non_saturating",
    "outcome_gradient": "marginal",
}
MACHINE = {
    "cpu": "Test CPU model",
    "cores": 2,
    "python": "3.11.7",
    "tensorflow": "2.21.0",
    "strawberryfields": "0.23.0",
    "numpy": "2.4.6",
    "date": "2026-11-22",
}
# setting-like integers in measurement rows (not measurements themselves)
SETTING_KEYS = {"batch", "cutoff", "layers", "repeats", "loop_samples", "compiled_repeats"}
SETTING_KEYS |= {"sf_batch_repeats", "d_steps", "warmup", "calls", "matmuls", "chain"}


class Draw:
    """Distinct random measurements: every call returns a new value in [low, high)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def __call__(self, low=0.5, high=900.0) -> float:
        return float(self.rng.uniform(low, high))


def fake_step(m: Draw, calls_per_lap: int) -> dict:
    """A step profile from :func:`summarise_step` on a profiler fed by a fake clock."""
    repeats = SETTINGS["repeats"]
    readings = []
    now = 0.0
    for _ in range(repeats):
        for _ in STAGES:
            for _ in range(calls_per_lap):
                readings += [now, now + m(1e-4, 5e-3)]
                now += 1.0
    prof = Profiler(clock=iter(readings).__next__)
    for _ in range(repeats):
        for name in STAGES:
            for _ in range(calls_per_lap):
                with prof.stage(name):
                    pass
        prof.lap()
    wall = {
        k: [m(5.0, 60.0) for _ in range(repeats)] for k in ("step", "instrumented", "generator")
    }
    first = {k: m(1.0, 30.0) for k in wall}
    return summarise_step(prof, wall, first, CONFIG["batch"], repeats, SETTINGS["warmup"], 1)


def fake_result(seed: int, calls_per_lap: int = 2) -> dict:
    m = Draw(seed)
    batch = CONFIG["batch"]
    batch_rows = []
    for b in SETTINGS["batch_sizes"]:
        for stage in ("generator_fwd_bwd", "train_step"):
            q25, med, q75 = sorted(m() for _ in range(3))
            batch_rows.append(
                {
                    "batch": b,
                    "stage": stage,
                    "ms_per_batch": med,
                    "ms_q25": q25,
                    "ms_q75": q75,
                    "us_per_sample": m(),
                    "samples_per_s": m(),
                    "first_call_s": m(),
                    "repeats": SETTINGS["repeats"],
                }
            )
    sweep = []
    for cutoff in SETTINGS["cutoffs"]:
        for layers in SETTINGS["layers"]:
            sweep.append(
                {
                    "cutoff": cutoff,
                    "layers": layers,
                    "batch": batch,
                    "us_per_sample": m(),
                    "ms_per_batch": m(),
                    "first_call_s": m(),
                    "repeats": SETTINGS["repeats"],
                    "peak_memory_mb": m(),
                    "memory_method": "tf_allocator",
                    "leakage": m(0.001, 0.1),
                    "leakage_max": m(0.1, 0.5),
                    "quality": {
                        "energy_distance": m(0.001, 0.5),
                        "mmd": m(0.001, 0.5),
                        "modes_captured": m(0.5, 2.5),
                        "high_quality_fraction": m(0.1, 0.99),
                        "mode_kl": m(0.001, 0.5),
                        "linear_r2_generated": m(0.1, 0.99),
                        "mode_weights": [m(), m()],
                    },
                    "quality_wall_s": m(),
                }
            )
    sf = {
        "circuit": "CVGenerator: four displacement encoding gates, then two layers",
        "circuit_details": {"n_modes": 4, "gates": 40},
        "step": "forward + gradient",
        "batch": batch,
        "loop_samples": SETTINGS["sf_loop_samples"],
        "sf_batch_us_per_sample": m(1e4, 3e4),
        "sf_batch_first_call_s": m(),
        "sf_batch_repeats": SETTINGS["sf_repeats"],
        "sf_loop_us_per_sample": m(1e4, 3e4),
        "sf_loop_first_call_s": m(),
        "compiled_us_per_sample": m(5.0, 50.0),
        "compiled_first_call_s": m(),
        "compiled_repeats": SETTINGS["repeats"],
        "ratio_batch": m(100.0, 3000.0),
        "ratio_loop": m(100.0, 3000.0),
        "max_state_difference": m(1e-8, 1e-6),
    }

    def matmul(shape, chain):
        return {"shape": shape, "chain": chain, "gflop": m(), "ms": m(), "gflops": m()}

    eff = {
        "dtype": "complex64",
        "batch": batch,
        "matmul_gflops": {
            "engine_shapes": [matmul("[4096, 16] x [16, 16]", 16)],
            "large": [matmul("[512, 512] x [512, 512]", 1)],
            "peak": m(),
            "engine_shape_peak": m(),
        },
        "circuit_gflop_per_step": m(),
        "flops": {"total": m(), "matmuls": 20},
        "counting_rule": "matrix products the engine performs",
        "circuit_step_ms": m(),
        "circuit_step_first_call_s": m(),
        "achieved_gflops": m(),
        "share_of_peak": m(0.001, 0.9),
        "share_of_engine_shape_peak": m(0.001, 0.9),
        "fwd_bwd": {
            "gflop_per_step": m(),
            "step_ms": m(),
            "first_call_s": m(),
            "achieved_gflops": m(),
            "share_of_peak": m(0.001, 0.9),
        },
    }
    result = {
        "machine": dict(MACHINE),
        "settings": dict(SETTINGS),
        "config": dict(CONFIG),
        "step": fake_step(m, calls_per_lap),
        "batch_scaling": batch_rows,
        "sweep": sweep,
        "sf_baseline": sf,
        "efficiency": eff,
        "wall_time_s": m(),
    }
    result["targets"] = check_targets(result, TARGETS)
    return result


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "profile_bimodal"
    result = fake_result(seed=1)
    md_path = write_profile_report(out, result, COMMAND)
    return result, md_path, report_paths(out)


def test_files_written_and_plots_linked(written):
    _, md_path, paths = written
    assert md_path == paths["md"] and md_path.name == "profile_bimodal.md"
    text = md_path.read_text()
    for key in ("stages", "batch", "sweep"):
        png = paths[key]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png.name})" in text
    assert report_paths(str(paths["md"])) == paths  # "reports/NAME.md" names the same report


def test_json_twin_holds_the_profile_and_the_command(written):
    result, _, paths = written
    payload = json.loads(paths["json"].read_text())
    assert payload == json.loads(json.dumps({"command": COMMAND, **result}))


def test_command_machine_and_sections(written):
    _, md_path, _ = written
    text = md_path.read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# ")
    assert lines[2] == f"`{COMMAND}`"  # the command line at the top
    head = lines[4]
    for value in MACHINE.values():
        assert str(value) in head
    headings = [line[3:] for line in lines if line.startswith("## ")]
    assert headings == list(SECTIONS)


def _row(text: str, first_cell: str) -> list[str]:
    """The cells of the table row that starts with ``first_cell``."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row starts with {first_cell!r}")


def test_every_part_is_reported_with_its_measured_values(written):
    result, md_path, _ = written
    text = md_path.read_text()
    step = result["step"]
    for row in step["stages"]:
        cells = _row(text, row["stage"])
        assert cells[1] == format_ms(row["median_ms"])
        assert cells[2] == format_ms(row["q75_ms"] - row["q25_ms"])
        assert cells[3] == str(row["calls"])
    overhead = _row(text, "overhead")
    assert overhead[1] == format_ms(step["step"]["median_ms"] - step["stage_sum_ms"])
    measured = _row(text, "**measured step** (bare `model.train_step`)")
    assert measured[1] == format_ms(step["step"]["median_ms"])
    for t in result["targets"]:
        cells = _row(text, t["name"])
        assert cells[3].startswith({True: "**pass**", False: "**miss**", None: "n/a"}[t["passed"]])
    kinds = {
        "generator_fwd_bwd": "generator forward + backward",
        "train_step": "full training step",
    }
    for r in result["batch_scaling"]:
        assert f"| {kinds[r['stage']]} | {r['batch']} | {format_ms(r['ms_per_batch'])} |" in text
    for r in result["sweep"]:
        assert f"| {r['cutoff']} | {r['layers']} | " in text
    for key in ("energy_distance", "mode_kl", "linear_r2_generated"):
        assert f" {key} |" in text  # quality columns (--quality)
    sf = result["sf_baseline"]
    assert sf["circuit"] in text
    for r in [*result["efficiency"]["matmul_gflops"]["engine_shapes"]]:
        assert f"| {r['shape']} |" in text


def test_without_targets_the_section_is_omitted():
    result = {**fake_result(seed=2), "targets": []}
    lines = render(result, COMMAND).splitlines()
    headings = [line[3:] for line in lines if line.startswith("## ")]
    assert headings == [s for s in SECTIONS if s != "Targets"]
    assert not any(line.startswith("| target |") for line in lines)


def test_targets_name_the_issue_circuit():
    first = check_targets(fake_result(seed=3), TARGETS)[0]
    for key in ("n_modes", "cutoff", "n_layers"):
        assert str(TARGET_CIRCUIT[key]) in first["name"]


# a printed number: sign, digits with thousands commas, decimals (or a version's dots), an
# exponent; a speed-up's "x" may follow it. Atomic, so "2,695x" never reads as "2".
NUMBER = re.compile(r"(?<![\w.])((?>-?\d(?:[\d,]*\d)?(?:\.\d+)*(?:e[-+]?\d+)?))x?(?!\w)")


def _numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def _allowed(result: dict) -> set[str]:
    """Numbers that may print identically in two profiles: settings, config, machine,
    target bounds and circuit, descriptive strings, and setting-like integers of rows."""
    allowed = set(_numbers(json.dumps([result["settings"], result["config"], result["machine"]])))
    allowed |= set(_numbers(json.dumps(TARGET_CIRCUIT)))

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str):
            allowed.update(_numbers(node))
        elif key in SETTING_KEYS or key in ("bound", "tolerance"):
            allowed.update(_numbers(f"{node} {node:,}"))
            if key in ("bound", "tolerance"):  # printed as a bound or a percentage
                allowed.update(_numbers(f"{node:g} {node:,.0f} {100 * node:.1f}"))

    walk(result)
    return allowed


def test_no_number_in_the_report_is_a_constant():
    a, b = fake_result(seed=11, calls_per_lap=2), fake_result(seed=12, calls_per_lap=3)
    text_a, text_b = render(a, COMMAND), render(b, COMMAND)
    numbers_a, numbers_b = _numbers(text_a), _numbers(text_b)
    assert len(numbers_a) == len(numbers_b)  # same layout, different measurements
    allowed = _allowed(a) | _numbers_of_command()
    same = [x for x, y in zip(numbers_a, numbers_b, strict=True) if x == y]
    offenders = sorted({x for x in same if x not in allowed})
    assert offenders == [], f"numbers that do not change with the measurements: {offenders}"
    assert len(numbers_a) - len(same) > 100  # the measurements do show up


def _numbers_of_command() -> set[str]:
    return set(_numbers(COMMAND))
