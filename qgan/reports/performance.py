"""The performance report of ``qgan profile``: Markdown, PNG plots and a JSON twin.

:func:`write_profile_report` writes, for ``out = reports/NAME``: ``NAME_stages.png`` (one
training step per stage), ``NAME_batch.png`` (batch scaling), ``NAME_sweep.png`` (cutoff
x layers heat maps), ``NAME.json`` (the profile dict as measured, plus the command) and
``NAME.md`` (last, so that a finished ``.md`` means a finished report). Every number in
the Markdown is a measurement of the profile, a quantity derived from measurements
(ratios, sums, spreads), a setting of the run, or a target bound (the Targets section is
there only when the profile was given targets, ``qgan profile --targets FILE``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from qgan._io import write_bytes_atomic, write_text_atomic
from qgan._plots import png_bytes, pyplot
from qgan.profiling.profiler import format_ms, format_stage_table

SECTIONS = (
    "Targets",
    "One training step, per stage",
    "Batch scaling",
    "Cutoff x layers",
    "Strawberry Fields tf backend, same circuit",
    "Efficiency",
    "How this was measured",
)
PLOTS = {"stages": "_stages.png", "batch": "_batch.png", "sweep": "_sweep.png"}


def _num(value, digits: int = 3) -> str:
    """A measured number: ``digits`` significant digits, thousands separated; '-' if None."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value != 0 and abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _pct(fraction) -> str:
    return "-" if fraction is None else f"{100 * fraction:.1f} %"


def _verdict(passed) -> str:
    return {True: "**pass**", False: "**miss**", None: "n/a"}[passed]


def _target_value(t: dict, value) -> str:
    if t["unit"] == "":  # a fraction
        return _pct(value)
    return f"{_num(value)} {t['unit']}".strip()


def render(result: dict, command: str, plots: dict[str, str] | None = None) -> str:
    """The Markdown report of a :func:`qgan.profiling.performance.profile` result.

    ``plots``: section key (``stages``, ``batch``, ``sweep``) -> PNG file name to link.
    """
    plots = plots or {}
    m, c, st = result["machine"], result["config"], result["settings"]
    step = result["step"]
    lines = [
        f"# Performance profile: `{c['name']}`",
        "",
        f"`{command}`",
        "",
        f"Measured on {m['date']}: {m['cpu']}, {m['cores']} cores; Python {m['python']}, "
        f"TensorFlow {m['tensorflow']}, Strawberry Fields {m['strawberryfields']}, NumPy "
        f"{m['numpy']}. Whole profile: {_num(result['wall_time_s'])} s of wall time.",
        "",
        f"Config: {c['n_modes']} modes, cutoff {c['cutoff']}, {_plural(c['n_layers'], 'layer')}, "
        f"{c['encoding']} encoding, readout {', '.join(c['readout'])} ({c['dtype']}); "
        f"{c['decoder']} decoder; discriminator {c['discriminator_hidden']}; batch "
        f"{c['batch']}, {_plural(c['d_steps'], 'discriminator step')} per generator step, "
        f"{c['loss']} loss, outcome gradient {c['outcome_gradient']}.",
        "",
        f"Timings: {st['warmup']} untimed warm-up calls, then {st['repeats']} timed repeats "
        f"(SF baseline: {st['sf_repeats']}); medians, with the interquartile range (IQR) as "
        "the spread. First calls (tracing and graph optimisation) are reported apart.",
        "",
    ]
    if result.get("targets"):
        lines += _targets(result["targets"])
    lines += _step_section(step, plots.get("stages"))
    lines += _batch_section(result["batch_scaling"], plots.get("batch"))
    lines += _sweep_section(result["sweep"], st, plots.get("sweep"))
    lines += _sf_section(result["sf_baseline"], step)
    lines += _efficiency_section(result["efficiency"])
    lines += _method_section(step)
    return "\n".join(lines) + "\n"


def _targets(targets: list[dict]) -> list[str]:
    lines = [
        "## Targets",
        "",
        "| target | goal | measured | result |",
        "|---|---:|---:|---|",
    ]
    for t in targets:
        goal = f"{t['op']} {_target_value(t, t['bound'])}"
        verdict = _verdict(t["passed"])
        if t.get("note"):
            verdict += f" ({t['note']})"
        lines.append(f"| {t['name']} | {goal} | {_target_value(t, t['measured'])} | {verdict} |")
    return [*lines, ""]


def _step_section(step: dict, plot: str | None) -> list[str]:
    o = step["overhead"]
    measured = step["step"]
    rows = [*step["stages"], {**o, "q25_ms": None, "q75_ms": None, "calls": None}]
    total = {
        "stage": "**measured step** (bare `model.train_step`)",
        "median_ms": measured["median_ms"],
        "q25_ms": measured["q25_ms"],
        "q75_ms": measured["q75_ms"],
    }
    gen = step["generator"]
    lines = [
        "## One training step, per stage",
        "",
        f"Batch {step['batch']}, {_plural(step['d_steps'], 'discriminator update')} and one "
        "generator update per step. The stages run in a copy of `GANModel.train_step` built "
        "from the model's own components (same draws, same results), timed in the same loop "
        "as the bare compiled step, alternating with it. The generator's forward passes for "
        "the discriminator updates and for its own update depend on no discriminator update, "
        "so the first five stages hold all of them (they may run side by side, as in the bare "
        "step); the last three run once per update (`calls`: stage entries per step).",
        "",
        format_stage_table(rows, per="step", total=total),
        "",
        f"Sum of the stage medians: {format_ms(step['stage_sum_ms'])} ms; measured step "
        f"{format_ms(measured['median_ms'])} ms "
        f"({_num(measured['us_per_sample'])} us per sample); stage sum within "
        f"{_pct(step['tolerance'])} of the step: "
        f"**{'yes' if step['within_tolerance'] else 'no'}**.",
        "",
        f"Where the overhead row ({format_ms(o['median_ms'])} ms, the step minus the stage "
        "sum) went, each part measured:",
        "",
        f"- in-graph time between stages (after one stage's end stamp, before the next "
        f"one's start): {format_ms(o['between_stages_ms'])} ms;",
        f"- calling the compiled step and fetching its results, outside the first and last "
        f"stamps (instrumented call's wall time minus its in-graph span): "
        f"{format_ms(o['call_and_dispatch_ms'])} ms;",
        f"- minus the cost of instrumenting (instrumented step "
        f"{format_ms(step['instrumented_step']['median_ms'])} ms minus the bare step; stages "
        f"run one after another there): {format_ms(o['instrumentation_ms'])} ms;",
        f"- the remainder, {format_ms(o['median_arithmetic_ms'])} ms, is median arithmetic: "
        "medians of separately timed series need not add up.",
        "",
        f"Generator forward + backward (latent -> features and leakage, gradient w.r.t. the "
        f"circuit's gate arguments) at batch {step['batch']}: {format_ms(gen['median_ms'])} ms "
        f"(IQR {format_ms(gen['q75_ms'] - gen['q25_ms'])} ms), "
        f"**{_num(gen['us_per_sample'])} us per sample**; the full training step takes "
        f"{_num(step['step_over_generator'])}x that.",
        "",
        f"First calls (tracing, graph optimisation and one run): bare step "
        f"{_num(measured['first_call_s'])} s, instrumented step "
        f"{_num(step['instrumented_step']['first_call_s'])} s, generator forward + backward "
        f"{_num(gen['first_call_s'])} s.",
        "",
    ]
    if plot:
        lines += [f"![time per stage]({plot})", ""]
    return lines


BATCH_KINDS = {
    "generator_fwd_bwd": "generator forward + backward",
    "train_step": "full training step",
}


def _kind(row: dict) -> str:
    return BATCH_KINDS.get(row["stage"], row["stage"])


def _batch_section(rows: list[dict], plot: str | None) -> list[str]:
    lines = [
        "## Batch scaling",
        "",
        "| measured | batch | ms / batch | IQR ms | us / sample | samples / s | first call s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {_kind(r)} | {r['batch']} | {format_ms(r['ms_per_batch'])} | "
            f"{format_ms(r['ms_q75'] - r['ms_q25'])} | {_num(r['us_per_sample'])} | "
            f"{_num(r['samples_per_s'])} | {_num(r['first_call_s'])} |"
        )
    lines.append("")
    if plot:
        lines += [f"![batch scaling]({plot})", ""]
    return lines


QUALITY_KEYS = (  # metric keys shown for the sweep's short runs, in this order
    "energy_distance",
    "mmd",
    "modes_captured",
    "high_quality_fraction",
    "mode_kl",
    "linear_r2_generated",
)


def _quality_keys(rows: list[dict]) -> list[str]:
    """The :data:`QUALITY_KEYS` that some row's ``quality`` holds as a number."""
    present = set()
    for r in rows:
        for k, v in (r.get("quality") or {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                present.add(k)
    return [k for k in QUALITY_KEYS if k in present]


def _sweep_section(rows: list[dict], settings: dict, plot: str | None) -> list[str]:
    qkeys = _quality_keys(rows)
    head = (
        "| cutoff | layers | us / sample | ms / batch | first call s | peak memory MB | "
        "leakage mean | leakage max |"
    )
    rule = "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for k in qkeys:
        head += f" {k} |"
        rule += "---:|"
    if qkeys:
        head += " training s |"
        rule += "---:|"
    methods = sorted({str(r.get("memory_method")) for r in rows})
    batches = sorted({r["batch"] for r in rows})
    lines = [
        "## Cutoff x layers",
        "",
        f"Generator forward + backward at batch {', '.join(map(str, batches))} on the compiled "
        "engine; peak memory of one warm call above what was live before it (read from: "
        f"{', '.join(methods)}); norm leakage (probability lost beyond the cutoff) per "
        "sample of the untrained generator, mean and largest.",
        "",
    ]
    if settings.get("quality"):
        lines += [
            f"Quality: final metrics of a {settings['quality_steps']}-step training run at "
            "each point.",
            "",
        ]
    lines += [head, rule]
    for r in rows:
        cells = [
            str(r["cutoff"]),
            str(r["layers"]),
            _num(r["us_per_sample"]),
            format_ms(r["ms_per_batch"]),
            _num(r["first_call_s"]),
            _num(r["peak_memory_mb"]),
            _num(r["leakage"]),
            _num(r["leakage_max"]),
        ]
        q = r.get("quality") or {}
        cells += [_num(q.get(k)) for k in qkeys]
        if qkeys:
            cells.append(_num(r.get("quality_wall_s")))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if plot:
        lines += [f"![cutoff x layers]({plot})", ""]
    return lines


def _sf_section(sf: dict, step: dict) -> list[str]:
    return [
        "## Strawberry Fields tf backend, same circuit",
        "",
        f"Circuit: {sf['circuit']}. Step: {sf['step']}.",
        "",
        "| backend | batch | us / sample (median) | timed calls | first call s | "
        "compiled engine is faster by |",
        "|---|---:|---:|---:|---:|---:|",
        f"| qgan compiled engine | {sf['batch']} | {_num(sf['compiled_us_per_sample'])} | "
        f"{sf['compiled_repeats']} | {_num(sf['compiled_first_call_s'])} | - |",
        f"| SF `tf` backend, batch mode | {sf['batch']} | "
        f"{_num(sf['sf_batch_us_per_sample'])} | {sf['sf_batch_repeats']} | "
        f"{_num(sf['sf_batch_first_call_s'])} | **{_num(sf['ratio_batch'])}x** |",
        f"| SF `tf` backend, one engine run per sample (the original research's loop) | 1 | "
        f"{_num(sf['sf_loop_us_per_sample'])} | {sf['loop_samples']} | "
        f"{_num(sf['sf_loop_first_call_s'])} | **{_num(sf['ratio_loop'])}x** |",
        "",
        "Largest amplitude difference between the compiled engine's and SF's kets on the "
        f"batch: {_num(sf['max_state_difference'])}.",
        "",
    ]


def _efficiency_section(eff: dict) -> list[str]:
    mm = eff["matmul_gflops"]
    fb = eff["fwd_bwd"]
    lines = [
        "## Efficiency",
        "",
        f"Complex matrix products ({eff['dtype']}) measured on this machine in the same run: "
        "the shapes of the engine's two-mode gate applications at this batch and cutoff "
        "(chained in one compiled call, as the engine applies them), and large square "
        "products (the peak).",
        "",
        "| matmul | products per call | GFLOP per call | ms (median) | GFLOP/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in [*mm["engine_shapes"], *mm["large"]]:
        lines.append(
            f"| {r['shape']} | {r.get('chain', 1)} | {_num(r['gflop'])} | {format_ms(r['ms'])} "
            f"| {_num(r['gflops'])} |"
        )
    lines += [
        "",
        f"Useful work counted for one circuit step at batch {eff['batch']}: "
        f"{_num(eff['circuit_gflop_per_step'])} GFLOP ({eff['counting_rule']}).",
        "",
        "| circuit step | GFLOP | ms (median) | GFLOP/s achieved | share of peak | "
        "share of the engine-shape matmul |",
        "|---|---:|---:|---:|---:|---:|",
        f"| forward | {_num(eff['circuit_gflop_per_step'])} | "
        f"{format_ms(eff['circuit_step_ms'])} | {_num(eff['achieved_gflops'])} | "
        f"{_pct(eff['share_of_peak'])} | {_pct(eff['share_of_engine_shape_peak'])} |",
        f"| forward + gradient | {_num(fb['gflop_per_step'])} | {format_ms(fb['step_ms'])} | "
        f"{_num(fb['achieved_gflops'])} | {_pct(fb['share_of_peak'])} | - |",
        "",
        f"Peak (best large product): {_num(mm['peak'])} GFLOP/s; best engine-shape product: "
        f"{_num(mm['engine_shape_peak'])} GFLOP/s.",
        "",
    ]
    return lines


def _method_section(step: dict) -> list[str]:
    return [
        "## How this was measured",
        "",
        "- Stages are timed inside the compiled step with `qgan.profiling.Profiler`: "
        "`tf.timestamp()` ops tied by control dependencies to the ops of each stage "
        "(every op of a stage waits for its start stamp; its end stamp waits for all of its "
        "ops and their outputs), accumulated in variables and read after each step.",
        "- `encoding` is the map from latents to gate arguments; the encoding gates' "
        "matrices are built inside the compiled circuit and count as `circuit simulation`. "
        "`discriminator forward` includes the losses; `optimizer update` includes the "
        "gradient guard (finite check, clipping). Gradients of every stage are computed in "
        "`backward pass`.",
        "- Wall times of whole calls (bare step, generator, batch scaling, SF) are "
        "`time.perf_counter()` around the call, results fetched to the host.",
        "- Every number above is measured in the run of the command at the top, derived "
        "from such measurements, a setting of that run, or a target bound of the issue.",
        "",
    ]


# ---------------------------------------------------------------------- plots


def stages_figure(step: dict) -> bytes:
    """PNG: median time per stage (IQR as error bars), the overhead, the measured step."""
    plt = pyplot()
    rows = [*step["stages"], step["overhead"]]
    names = [r["stage"] for r in rows]
    med = np.array([r["median_ms"] for r in rows])
    low = np.array([r["median_ms"] - r.get("q25_ms", r["median_ms"]) for r in rows])
    high = np.array([r.get("q75_ms", r["median_ms"]) - r["median_ms"] for r in rows])
    fig, ax = plt.subplots(figsize=(7, 3.8))
    y = np.arange(len(rows))[::-1]
    colors = ["tab:blue"] * len(step["stages"]) + ["0.6"]
    ax.barh(y, med, xerr=[low, high], color=colors, capsize=2)
    ax.axvline(step["step"]["median_ms"], color="tab:red", lw=1, label="measured step")
    ax.set_yticks(y, names)
    ax.set_xlabel("ms per training step (median, IQR)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"one training step, batch {step['batch']}")
    return png_bytes(fig)


def batch_figure(rows: list[dict]) -> bytes:
    """PNG: us per sample and samples per second against the batch size, per measured kind."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for kind in dict.fromkeys(_kind(r) for r in rows):
        mine = sorted((r for r in rows if _kind(r) == kind), key=lambda r: r["batch"])
        b = [r["batch"] for r in mine]
        axes[0].plot(b, [r["us_per_sample"] for r in mine], "o-", label=kind)
        axes[1].plot(b, [r["samples_per_s"] for r in mine], "o-", label=kind)
    batches = sorted({r["batch"] for r in rows})
    for ax, label in zip(axes, ("us per sample", "samples per second"), strict=True):
        ax.set_xscale("log", base=2)
        ax.set_xticks(batches, [str(b) for b in batches])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return png_bytes(fig)


def sweep_figure(rows: list[dict]) -> bytes:
    """PNG: heat maps over cutoff x layers of time per sample, peak memory, leakage (and
    the first quality metric, if measured)."""
    plt = pyplot()
    cutoffs = sorted({r["cutoff"] for r in rows})
    layers = sorted({r["layers"] for r in rows})
    panels = [
        ("us_per_sample", "us per sample", None),
        ("peak_memory_mb", "peak memory MB", None),
        ("leakage", "norm leakage", None),
    ]
    qkeys = _quality_keys(rows)
    if qkeys:
        panels.append((qkeys[0], qkeys[0], "quality"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.2), squeeze=False)
    for ax, (key, title, source) in zip(axes[0], panels, strict=True):
        grid = np.full((len(layers), len(cutoffs)), np.nan)
        for r in rows:
            value = (r.get("quality") or {}).get(key) if source else r.get(key)
            if value is not None:
                grid[layers.index(r["layers"]), cutoffs.index(r["cutoff"])] = value
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(cutoffs)), cutoffs)
        ax.set_yticks(range(len(layers)), layers)
        ax.set_xlabel("cutoff")
        ax.set_ylabel("layers")
        ax.set_title(title, fontsize=9)
        low, high = np.nanmin(grid), np.nanmax(grid)
        for (i, j), value in np.ndenumerate(grid):
            if np.isfinite(value):  # dark text on the bright end of the colour map
                bright = high > low and (value - low) / (high - low) > 0.6
                color = "k" if bright else "w"
                ax.text(j, i, _num(value, 2), ha="center", va="center", fontsize=7, color=color)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    return png_bytes(fig)


def report_paths(out) -> dict[str, Path]:
    """The files of a report ``out`` (``reports/NAME``, with or without ``.md``)."""
    out = Path(out)
    if out.suffix in (".md", ".json"):
        out = out.with_suffix("")
    paths = {"md": out.with_name(out.name + ".md"), "json": out.with_name(out.name + ".json")}
    for key, suffix in PLOTS.items():
        paths[key] = out.with_name(out.name + suffix)
    return paths


def write_profile_report(out, result: dict, command: str) -> Path:
    """Write the report of ``result`` (plots, JSON, then Markdown) atomically; returns the
    ``.md`` path. ``command``: the command line that produced it, printed at the top."""
    paths = report_paths(out)
    write_bytes_atomic(paths["stages"], stages_figure(result["step"]))
    write_bytes_atomic(paths["batch"], batch_figure(result["batch_scaling"]))
    write_bytes_atomic(paths["sweep"], sweep_figure(result["sweep"]))
    payload = {"command": command, **result}
    write_text_atomic(paths["json"], json.dumps(payload, indent=2, default=_jsonable) + "\n")
    plots = {key: paths[key].name for key in PLOTS}
    return write_text_atomic(paths["md"], render(result, command, plots))


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
