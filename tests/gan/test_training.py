"""Specification of ``qgan.gan.training``: ``train``, ``sample`` and ``load_trained_run``.

Every run here is the reference config (configs/bimodal.yaml) shrunk to a few seconds
(fixture ``tiny_config``: 2 modes, cutoff 3, 12 steps, evaluations and checkpoints every 4
steps). The trained runs are module-scoped and shared:

* ``reference``: seed 0, trained straight through;
* ``same_seed``: the same config again (reproducibility);
* ``other_seed``: seed 1;
* ``resumed``: seed 0, interrupted by ``KeyboardInterrupt`` right after step 8 (an
  evaluation and checkpoint step, past the checkpoint of step 4), then resumed from its
  run directory alone (``train(resume=run_dir)``, no config);
* ``classical``: the classical-generator ablation.

The resume contract, precisely: a run interrupted after any step and resumed with
``train(resume=run_dir)`` ends with the same files as the uninterrupted run of the
same seed -- equal ``metrics.json`` metrics and step counts, equal ``metrics.jsonl`` and
``losses.jsonl`` records (wall-clock times aside), equal generated points and a final
checkpoint with equal generator, decoder and discriminator weights. Equality is exact: the
same ops run in the same order on the same data and random streams. Its ``wall_time_s``
counts both segments. A config given beside the run may differ from the run's only in
``output.dir`` and ``train.steps``; any other key is refused by name.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from qgan import _rundir as rundir
from qgan.gan import training
from qgan.gan.config import load_config
from qgan.gan.model import build_generator
from qgan.gan.training import (
    EVAL_SEED_OFFSET,
    FINAL_SEED_OFFSET,
    load_trained_run,
    sample,
    train,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INTERRUPT_AFTER = 8


def eval_steps(cfg) -> list[int]:
    t = cfg.train
    return sorted(set(range(t.eval_every, t.steps + 1, t.eval_every)) | {t.steps})


def without_times(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time_s"} for r in records]


def checkpoint_tensors(path) -> dict:
    reader = tf.train.load_checkpoint(str(path))
    names = [n for n in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in n]
    return {n: reader.get_tensor(n) for n in names}


# --------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("training")


@pytest.fixture(scope="module")
def reference(root, tiny_config):
    cfg = tiny_config(root / "reference")
    return cfg, train(cfg, progress=False)


@pytest.fixture(scope="module")
def same_seed(root, tiny_config):
    return train(tiny_config(root / "same_seed"), progress=False)


@pytest.fixture(scope="module")
def other_seed(root, tiny_config):
    return train(tiny_config(root / "other_seed", seed=1), progress=False)


@pytest.fixture(scope="module")
def resumed(root, tiny_config):
    """``(state at the interrupt, RunResult of the resumed run)``."""
    cfg = tiny_config(root / "resumed")
    seen, clock = [], {1: [], 2: []}  # clock: perf_counter at each on_step, per segment

    def interrupt(step, losses):
        seen.append(step)
        clock[1].append(time.perf_counter())
        if step == INTERRUPT_AFTER:
            raise KeyboardInterrupt

    tick = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False, on_step=interrupt)
    first_segment = time.perf_counter() - tick
    (run_dir,) = (root / "resumed").iterdir()
    at_interrupt = {
        "steps_seen": list(seen),
        "latest": rundir.latest_checkpoint(run_dir),
        "finished": (run_dir / "metrics.json").exists(),
        "files": sorted(p.name for p in run_dir.iterdir()),
    }
    tick = time.perf_counter()
    result = train(
        resume=run_dir, progress=False, on_step=lambda s, _: clock[2].append(time.perf_counter())
    )
    at_interrupt["segments_s"] = (first_segment, time.perf_counter() - tick)
    at_interrupt["steps_s"] = tuple(clock[k][-1] - clock[k][0] for k in (1, 2))
    return at_interrupt, result


@pytest.fixture(scope="module")
def classical(root, tiny_config):
    cfg = tiny_config(
        root / "classical",
        **{
            "generator.kind": "classical",
            "generator.n_outcomes": 2,
            "generator.n_continuous": 2,
            "generator.hidden": [8],
        },
    )
    return cfg, train(cfg, progress=False)


# --------------------------------------------------------------------------- run directory


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_run_directory_is_named_after_the_config(reference, root):
    cfg, result = reference
    assert result.run_dir.parent == root / "reference"
    assert result.run_dir.name.startswith(f"{cfg.name}-")


def test_resolved_config_loads_back_equal(reference):
    cfg, result = reference
    assert load_config(result.run_dir / "config.yaml") == cfg


def test_metrics_jsonl_has_one_line_per_evaluation(reference, design_metrics):
    cfg, result = reference
    keys = set(sum(design_metrics, ()))  # bimodal has known centres: every key applies
    records = rundir.read_jsonl(result.run_dir / "metrics.jsonl")
    assert [r["step"] for r in records] == eval_steps(cfg)
    assert result.history == records
    for r in records:
        assert keys <= set(r)


def test_metrics_json_has_every_design_metric(reference, design_metrics):
    cfg, result = reference
    final = json.loads((result.run_dir / "metrics.json").read_text())
    assert final == json.loads(json.dumps(result.metrics))
    m = final["metrics"]
    assert set(sum(design_metrics, ())) <= set(m)
    assert final["steps"] == cfg.train.steps and final["stopped_early"] is False
    assert 0 <= m["modes_captured"] <= 2  # bimodal: two centres
    for key in ("high_quality_fraction", "gradient_flow"):
        assert 0.0 <= m[key] <= 1.0
    for key in ("mode_kl", "mmd", "energy_distance", "leakage"):
        assert np.isfinite(m[key]) and m[key] >= 0.0
    assert len(m["wasserstein_1d"]) == 2 and min(m["wasserstein_1d"]) >= 0.0
    assert set(final["n_params"]) == {"generator", "decoder", "discriminator"}
    assert all(v > 0 for v in final["n_params"].values())


def test_keep_best_restores_the_best_evaluated_weights(reference):
    """Final weights come from the evaluation with the lowest energy distance (the reference
    config's early-stopping metric): re-evaluated on the selection draw (the same fixed
    latents and reference sample), they give that evaluation's metrics back."""
    cfg, result = reference
    assert cfg.train.early_stopping.keep_best
    records = rundir.read_jsonl(result.run_dir / "metrics.jsonl")
    best = min(records, key=lambda r: r["energy_distance"])
    assert result.metrics["weights_from_step"] == best["step"]
    _, model = load_trained_run(result.run_dir)
    _, reference_points, mixture = training.load_data(cfg)
    again, _ = training.evaluate_generator(model, reference_points, mixture, cfg)
    skip = {"step", "time_s", "gradient_flow"}  # gradient_flow: 0/1 shares, equal anyway
    assert {k: v for k, v in best.items() if k not in skip} == {
        k: v for k, v in again.items() if k not in skip
    }


def test_final_metrics_are_measured_on_a_draw_apart_from_the_selection_draw(reference):
    """The final metrics are not the selected evaluation's: they come from other latents
    and another real reference sample (selecting on a draw and reporting on it favours the
    draw), and they are exactly the evaluation of the final weights on that final draw."""
    cfg, result = reference
    final = result.metrics
    assert final["evaluation"] == {
        "selection_seed": cfg.seed + EVAL_SEED_OFFSET,
        "final_seed": cfg.seed + FINAL_SEED_OFFSET,
    }
    real, selection, mixture = training.load_data(cfg)
    fresh = training.reference_sample(cfg, real, mixture, cfg.seed + FINAL_SEED_OFFSET)
    assert fresh.shape == selection.shape
    assert not np.isin(fresh, selection).any()  # continuous draws: no point shared
    _, model = load_trained_run(result.run_dir)
    again, points = training.evaluate_generator(
        model, fresh, mixture, cfg, seed=cfg.seed + FINAL_SEED_OFFSET
    )
    assert again == final["metrics"]
    np.testing.assert_array_equal(points, np.load(result.run_dir / "generated.npy"))
    best = min(
        rundir.read_jsonl(result.run_dir / "metrics.jsonl"), key=lambda r: r["energy_distance"]
    )
    assert best["energy_distance"] != final["metrics"]["energy_distance"]


def test_untrained_generator_ablation_is_the_decoder_on_the_generator_as_built(reference):
    """``untrained_generator``: the final draw's metrics with the generator's weights as a
    freshly built generator of the same config has them (decoder as trained); the
    trained weights are back afterwards."""
    cfg, result = reference
    _, model = load_trained_run(result.run_dir)
    trained = [v.numpy() for v in model.generator.trainable_variables]
    fresh = build_generator(cfg)
    _, _, mixture = training.load_data(cfg)
    with model.untrained_generator():
        for v, w in zip(model.generator.trainable_variables, fresh.trainable_variables):
            np.testing.assert_array_equal(v.numpy(), w.numpy())
    for v, w in zip(model.generator.trainable_variables, trained):
        np.testing.assert_array_equal(v.numpy(), w)
    assert not all(
        np.array_equal(w, f.numpy())
        for w, f in zip(trained, fresh.trainable_variables, strict=True)
    )
    evaluation = training.final_evaluation(model, mixture, cfg)
    assert evaluation["untrained_generator"] == result.metrics["untrained_generator"]
    assert evaluation["metrics"] == result.metrics["metrics"]
    u = result.metrics["untrained_generator"]
    assert {"mode_kl", "energy_distance", "mode_weights", "leakage"} <= set(u)
    assert u["energy_distance"] != result.metrics["metrics"]["energy_distance"]


def test_cluster_weights_are_the_circuits_born_probabilities(built):
    """With a mode_assignment decoder the generated points' cluster frequencies are the
    circuit's Born probabilities of the outcomes dealt to each cluster, averaged over the
    same latents (no classical sampler in between), for the circuit as built and for
    another one (moved gate arguments): within 5 binomial standard errors on 4,096 points."""
    model, _, mixture, cfg = built
    assert cfg.decoder.kind == "mode_assignment" and model.generator.samples_outcomes
    centres = np.asarray(mixture.centers)
    anchors = model.decoder.anchors.numpy()
    anchor_cluster = np.argmin(((anchors[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    n = 4096
    variables = model.generator.trainable_variables
    built_weights = [v.numpy() for v in variables]
    try:
        for shift in (0.0, 0.3):
            for v, w in zip(variables, built_weights, strict=True):
                v.assign(w + shift)
            z, noise = model.latent_and_noise(n, tf.random.Generator.from_seed(11))
            probs, _, _ = model.generator.outcome_distribution((z, noise))
            points, _ = model.fake(z, noise)
            born = np.bincount(
                anchor_cluster, np.asarray(probs, np.float64).mean(0), minlength=len(centres)
            )
            nearest = np.argmin(((points.numpy()[:, None] - centres[None]) ** 2).sum(-1), axis=1)
            sampled = np.bincount(nearest, minlength=len(centres)) / n
            err = np.sqrt(born * (1 - born) / n)
            np.testing.assert_array_less(np.abs(sampled - born), 5 * err + 1e-9)
    finally:
        for v, w in zip(variables, built_weights, strict=True):
            v.assign(w)


def test_checkpoints_are_complete(reference):
    cfg, result = reference
    folder = result.run_dir / "checkpoints"
    latest = rundir.latest_checkpoint(result.run_dir)
    assert latest["step"] == cfg.train.steps
    assert Path(str(folder / latest["path"]) + ".index").is_file()
    assert (folder / "final" / "ckpt.index").is_file()
    assert result.metrics["checkpoint"] == "checkpoints/final/ckpt"
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_plots_are_png_files(reference):
    _, result = reference
    for name in ("samples.png", "losses.png"):
        head = (result.run_dir / name).read_bytes()[:8]
        assert head == PNG_SIGNATURE, name


def test_generated_points_are_saved(reference):
    cfg, result = reference
    points = np.load(result.run_dir / "generated.npy")
    assert points.shape == (cfg.train.eval_samples, 2)
    assert np.all(np.isfinite(points))


def test_tensorboard_logs_the_evaluations(reference):
    cfg, result = reference
    events = list((result.run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert events
    steps = set()
    for path in events:
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            if any(v.tag == "eval/energy_distance" for v in event.summary.value):
                steps.add(event.step)
    assert sorted(steps) == eval_steps(cfg)


# --------------------------------------------------------------------------- reproducibility


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_same_seed_reproduces_the_run(reference, same_seed):
    _, a = reference
    assert same_seed.metrics["metrics"] == a.metrics["metrics"]
    assert without_times(same_seed.history) == without_times(a.history)
    assert rundir.read_jsonl(same_seed.run_dir / "losses.jsonl") == rundir.read_jsonl(
        a.run_dir / "losses.jsonl"
    )
    np.testing.assert_array_equal(
        np.load(same_seed.run_dir / "generated.npy"), np.load(a.run_dir / "generated.npy")
    )


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_another_seed_gives_another_run(reference, other_seed):
    _, a = reference
    assert other_seed.metrics["seed"] == 1
    assert not np.array_equal(
        np.load(other_seed.run_dir / "generated.npy"), np.load(a.run_dir / "generated.npy")
    )
    assert (
        other_seed.metrics["metrics"]["energy_distance"] != a.metrics["metrics"]["energy_distance"]
    )


# --------------------------------------------------------------------------- resume


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_interrupt_checkpoints_the_interrupted_step(resumed):
    at_interrupt, _ = resumed
    assert at_interrupt["steps_seen"] == list(range(1, INTERRUPT_AFTER + 1))
    assert at_interrupt["latest"]["step"] == INTERRUPT_AFTER
    assert not at_interrupt["finished"]
    assert "config.yaml" in at_interrupt["files"]


def test_resumed_run_equals_the_uninterrupted_run(reference, resumed):
    cfg, a = reference
    _, r = resumed
    assert r.metrics["steps"] == cfg.train.steps
    for key in ("metrics", "weights_from_step", "stopped_early", "nonfinite_steps", "n_params"):
        assert r.metrics[key] == a.metrics[key], key
    assert without_times(r.history) == without_times(a.history)
    assert rundir.read_jsonl(r.run_dir / "losses.jsonl") == rundir.read_jsonl(
        a.run_dir / "losses.jsonl"
    )
    np.testing.assert_array_equal(
        np.load(r.run_dir / "generated.npy"), np.load(a.run_dir / "generated.npy")
    )
    mine = checkpoint_tensors(r.run_dir / "checkpoints" / "final" / "ckpt")
    theirs = checkpoint_tensors(a.run_dir / "checkpoints" / "final" / "ckpt")
    assert mine.keys() == theirs.keys()
    assert any(name.startswith("generator/") for name in mine)
    for name in mine:
        np.testing.assert_array_equal(mine[name], theirs[name], err_msg=name)


def test_resumed_wall_time_counts_both_segments(resumed):
    """``wall_time_s`` of the resumed run: the first segment's time up to the interrupt
    (``elapsed_s`` of its checkpoint) plus the second's. Oracles: the test's own clock
    around each ``train`` call (upper bounds) and between the first and last ``on_step``
    of each segment (lower bounds)."""
    at_interrupt, r = resumed
    first, second = at_interrupt["segments_s"]
    first_steps, second_steps = at_interrupt["steps_s"]
    elapsed = at_interrupt["latest"]["elapsed_s"]
    assert first_steps <= elapsed <= first
    assert r.metrics["wall_time_s"] >= elapsed + second_steps
    assert r.metrics["wall_time_s"] <= first + second
    times = [rec["time_s"] for rec in r.history]  # evaluations' times count on, too
    assert times == sorted(times) and times[-1] > elapsed


def test_resume_with_a_config_naming_another_output_dir_is_accepted(reference, resumed, root):
    """The run directory is given, so a config's ``output.dir`` does not matter."""
    _, r = resumed
    assert not (root / "elsewhere").exists()
    cfg, _ = reference
    elsewhere = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": "x"})})
    assert training.resumed_config(r.run_dir, elsewhere) == training.resumed_config(r.run_dir)


def test_resume_with_another_config_is_refused_naming_the_key(reference, tiny_config, root):
    cfg, a = reference
    changed = tiny_config(root / "reference", **{"train.lr_generator": 0.5})
    expected = (
        f"config key train.lr_generator: differs from the run's config.yaml "
        f"(0.5 given vs {cfg.train.lr_generator!r}); a resumed run keeps its config"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        train(changed, resume=a.run_dir, progress=False)


def test_resume_with_a_differing_override_is_refused_naming_the_key(reference):
    _, a = reference
    with pytest.raises(ValueError, match=re.escape("config key seed: differs")):
        train(resume=a.run_dir, overrides={"seed": 5}, progress=False)


def test_resume_of_a_non_run_directory_names_it(tmp_path, reference):
    cfg, _ = reference
    with pytest.raises(ValueError, match=str(tmp_path)):
        train(cfg, resume=tmp_path, progress=False)


# --------------------------------------------------------------------------- classical


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_classical_generator_trains(classical, design_metrics):
    cfg, result = classical
    assert load_config(result.run_dir / "config.yaml").generator.kind == "classical"
    m = result.metrics["metrics"]
    assert set(sum(design_metrics, ())) <= set(m)
    assert np.isfinite(m["energy_distance"])
    assert [r["step"] for r in result.history] == eval_steps(cfg)
    assert result.metrics["n_params"]["generator"] > 0


# ------------------------------------------------------------------ sample, load_trained_run


def test_sample_draws_from_the_final_weights(reference):
    """With the evaluation seed, ``sample`` redraws the final evaluation's points: the
    checkpointed weights are the ones that were evaluated."""
    cfg, result = reference
    points = sample(result.run_dir, cfg.train.eval_samples, seed=cfg.seed + FINAL_SEED_OFFSET)
    assert points.dtype == np.float32
    np.testing.assert_array_equal(points, np.load(result.run_dir / "generated.npy"))


def test_sample_returns_n_points(reference):
    cfg, result = reference
    n = cfg.train.batch_size + 5  # not a multiple of the batch
    points = sample(result.run_dir, n, seed=3)
    assert points.shape == (n, 2) and points.dtype == np.float32
    assert np.all(np.isfinite(points))
    assert not np.array_equal(points[:10], np.load(result.run_dir / "generated.npy")[:10])


def test_sample_needs_a_positive_count(reference):
    _, result = reference
    with pytest.raises(ValueError, match="n"):
        sample(result.run_dir, 0)


def test_load_run_of_a_non_run_directory_names_it(tmp_path):
    with pytest.raises(ValueError, match=str(tmp_path)):
        load_trained_run(tmp_path)


# --------------------------------------------------------------------------- evaluation


@pytest.fixture(scope="module")
def built(root, tiny_config):
    """``(model, reference, mixture, cfg)`` of the shrunken config, untrained."""
    cfg = tiny_config(root / "built")
    model, reference, mixture, _ = training.build(cfg)
    return model, reference, mixture, cfg


def test_gradient_flow_is_checked_against_the_gradient_entries(built, monkeypatch):
    """Evaluation passes the gradients *and* the entries they belong to, so a gradient list
    that lost an entry is refused (gradient_flow's alignment check) instead of being
    measured against itself."""
    model, reference, mixture, cfg = built
    grads, names = model.gradient_entries(cfg.seed)
    assert (
        len(grads) == len(names) == len(model.generator.circuit.weight_names) + len(model.dec_vars)
    )
    monkeypatch.setattr(model, "gradient_entries", lambda seed: (grads[:-1], names))
    with pytest.raises(ValueError, match="one gradient per variable"):
        training.evaluate_generator(model, reference, mixture, cfg)


def test_gradient_flow_is_the_share_of_entries_with_a_usable_gradient(built, monkeypatch):
    """An entry without a gradient (None), with a non-finite or an all-zero one does not
    count: one of each among the real entries gives (n - 3) / n."""
    model, reference, mixture, cfg = built
    grads, names = model.gradient_entries(cfg.seed)
    broken = [None, np.float32(np.nan), np.float32(0.0), *grads[3:]]
    monkeypatch.setattr(model, "gradient_entries", lambda seed: (broken, names))
    result, _ = training.evaluate_generator(model, reference, mixture, cfg)
    usable = sum(g is not None and np.all(np.isfinite(g)) and np.any(g != 0) for g in grads[3:])
    assert result["gradient_flow"] == usable / len(names)


def test_open_run_and_training_loop_resume_a_finished_run_where_it_ended(reference):
    """The steps of ``train`` are callable on their own: reopening a finished run restores
    its last checkpoint (step, selection state, an empty loss window) and the loop has no
    step left to train."""
    cfg, result = reference
    run = training.open_run(None, resume=result.run_dir)
    assert run.run_dir == result.run_dir and run.cfg == cfg
    assert int(run.model.step.numpy()) == cfg.train.steps
    loop = training.TrainingLoop(run, progress=False)
    try:
        assert loop.step == cfg.train.steps
        assert loop.window == []
        assert loop.state["best_step"] in eval_steps(cfg)
        assert loop.state["nonfinite_steps"] == result.metrics["nonfinite_steps"]
    finally:
        loop.close()


def test_output_dir_under_a_file_is_refused_before_anything_is_built(tiny_config, tmp_path):
    """``train`` from Python checks ``output.dir`` first (as the CLI does before importing
    TensorFlow): under a regular file it is one ValueError naming the key, nothing created."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    cfg = tiny_config(blocker / "runs")
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=r"output\.dir"):
        train(cfg, progress=False)
    assert sorted(tmp_path.rglob("*")) == before
