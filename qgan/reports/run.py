"""``report.md`` of a training run, rendered from the files in its run directory."""

from __future__ import annotations

from pathlib import Path

import yaml

from qgan._io import write_text_atomic
from qgan._rundir import read_finished_run, read_jsonl

METRIC_ROWS = (
    ("modes_captured", "modes captured"),
    ("high_quality_fraction", "high-quality fraction"),
    ("mode_kl", "mode KL (reverse)"),
    ("mode_weights", "mode weights"),
    ("mmd", "MMD (RBF)"),
    ("energy_distance", "energy distance"),
    ("wasserstein_1d", "W1 per axis"),
    ("linear_r2_generated", "linear R^2, generated"),
    ("linear_r2_real", "linear R^2, real"),
    ("gradient_flow", "gradient flow"),
    ("leakage", "norm leakage (mean)"),
)


def fmt(value) -> str:
    """A metric value for a Markdown table."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


LOSS_ROWS = (  # losses.jsonl keys of the objective, in display order
    ("g_adversarial", "generator, adversarial"),
    ("g_leakage_penalty", "generator, leakage penalty"),
    ("g_loss", "generator, total (optimised)"),
    ("d_adversarial", "discriminator, adversarial"),
    ("d_gradient_penalty", "discriminator, gradient penalty"),
    ("d_loss", "discriminator, total (optimised)"),
)


def objective_lines(cfg: dict, last_losses: dict | None) -> list[str]:
    """The ``## Objective`` section: the terms the run optimised, as configured (loss,
    penalty weights, outcome gradient), and their values in the last logged window of
    ``losses.jsonl`` (``last_losses``; None if nothing was logged)."""
    t, disc = cfg["train"], cfg["discriminator"]
    leakage, gp = t.get("leakage_penalty", 0), disc.get("gradient_penalty", 0)
    lines = [
        "## Objective",
        "",
        f"Generator: `{t['loss']}` adversarial loss"
        + (f" + {fmt(leakage)} x mean norm leakage" if leakage else "")
        + f" (outcome gradient `{t.get('outcome_gradient')}`); discriminator: `{t['loss']}` "
        + "adversarial loss"
        + (f" + {fmt(gp)} x gradient penalty" if gp else "")
        + ".",
    ]
    if last_losses:
        lines += [
            "",
            f"Last logged window (step {last_losses.get('step')}):",
            "",
            "| term | value |",
            "|---|---|",
        ]
        lines += [
            f"| {label} | {fmt(last_losses[key])} |"
            for key, label in LOSS_ROWS
            if key in last_losses
        ]
    return lines + [""]


def render_run_report(run_dir) -> str:
    """Markdown for one run: objective, metrics, timings, parameter counts, plots and the
    config."""
    run_dir = Path(run_dir)
    cfg, final = read_finished_run(run_dir)
    m = final["metrics"]
    g = cfg["generator"]
    if g["kind"] == "cv":
        gen = (
            f"CV circuit, {g['n_modes']} modes, {g['n_layers']} layers, cutoff {g['cutoff']}, "
            f"encoding {g['encoding']}, readout {', '.join(g['readout'])} ({g['backend']} backend)"
        )
    else:
        gen = f"classical MLP {g['hidden']}, {g['n_outcomes']} outcomes + {g['n_continuous']}"
    lines = [
        f"# Run `{run_dir.name}`",
        "",
        f"Config `{cfg['name']}`, seed {cfg['seed']}; data `{cfg['data']['kind']}`; generator: "
        f"{gen}; decoder `{cfg['decoder']['kind']}`; loss `{cfg['train']['loss']}`.",
        "",
        f"Trained {final['steps']} steps"
        + (" (stopped early)" if final.get("stopped_early") else "")
        + f"; weights from step {final.get('weights_from_step')} (best "
        f"`{final.get('selection_metric')}` on the training data's reference sample).",
        "",
        *objective_lines(cfg, (read_jsonl(run_dir / "losses.jsonl") or [None])[-1]),
        "## Metrics",
        "",
        f"{cfg['train']['eval_samples']} generated samples against a real reference sample, "
        "both drawn apart from the draw the weights were selected on. `untrained generator`: "
        "the same decoder and latents with the generator's weights as built, before "
        "training (what training the generator adds).",
        "",
    ]
    u = final.get("untrained_generator")  # None: a run finished before the ablation existed
    header = "| metric | value |" if u is None else "| metric | trained | untrained generator |"
    lines += [header, "|---|---|" if u is None else "|---|---|---|"]
    named = {key for key, _ in METRIC_ROWS}
    rows = [(label, key) for key, label in METRIC_ROWS if key in m]
    rows += [(key, key) for key in m if key not in named]
    for label, key in rows:
        cells = [fmt(m[key])] if u is None else [fmt(m[key]), fmt(u.get(key))]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    step = final.get("step_time_ms_median")
    lines += [
        "",
        "## Time and size",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| wall time | {final['wall_time_s']:.1f} s |",
        f"| first step (incl. tracing) | {fmt(final.get('trace_time_s'))} s |",
        f"| median step | {fmt(step)} ms |",
        f"| non-finite steps skipped | {final.get('nonfinite_steps', 0)} |",
    ]
    lines += [f"| parameters, {k} | {v} |" for k, v in final["n_params"].items()]
    for png, title in (
        ("samples.png", "Samples"),
        ("losses.png", "Losses"),
        ("metrics.png", "Metrics during training"),
    ):
        if (run_dir / png).exists():
            lines += ["", f"## {title}", "", f"![{title}]({png})"]
    lines += ["", "## Config", "", "```yaml", yaml.safe_dump(cfg, sort_keys=False).strip(), "```"]
    return "\n".join(lines) + "\n"


def write_run_report(run_dir) -> Path:
    """Render :func:`render_run_report` into ``run_dir/report.md`` (atomically)."""
    return write_text_atomic(Path(run_dir) / "report.md", render_run_report(run_dir))
