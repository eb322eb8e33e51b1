"""IonQ verbs: ``qgan ionq compile`` (a model circuit's native-gate compilation),
``qgan ionq estimate`` (circuits, shots, native gates, cost and time per target, before
anything is submitted) and ``qgan ionq status RUN_DIR`` (the IonQ jobs of a run directory).

``compile`` and ``estimate`` take the circuit structure from a classifier config (CONFIG,
read by ``qgan.classify.config``: model, ``backend`` target, ``train`` shots, epochs and
gradient, ``data`` size) or from ``--n-qubits``/``--depth`` and the structure options
(defaults: :mod:`qgan.qubit.defaults`; then ``estimate`` needs ``--circuits`` and
``--shots``). ``compile`` also takes a trained classifier's run directory (RUN_DIR, written
by ``qgan classify``): its circuit with the trained angles bound, for one input of the
run's validation split (``--input INDEX``). ``train.gradient: autodiff`` has no circuits
to run on hardware: ``estimate`` counts the parameter-shift gradient instead (the hardware
gradient of the same value) and says so; ``--gradient`` picks the hardware gradient.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qgan.qubit.defaults import STRUCTURE_DEFAULTS

STRUCTURE = ("n_qubits", "depth", "encoding", "entangler", "topology", "measurement")
HARDWARE_GRADIENTS = ("parameter_shift", "spsa")
QASM_PRECISION = 17  # as QubitLayer.to_qasm: float64 angles survive the text


#: Images in a loader's pool (no .npz: digits, data.full) when ``data.n_samples`` is null.
POOL_SIZE = {"fashion_mnist": 60000, "digits": 1797}


def _workload(args) -> dict:
    """What the command line describes: ``model`` (QubitModel), ``gateset``, ``shots``,
    ``circuits`` and ``breakdown`` (from CONFIG, or from the structure options)."""
    from qgan.qubit import QubitModel

    if args.config is not None:
        work = _classify_workload(args.config, getattr(args, "gradient", None))
    else:
        if getattr(args, "gradient", None) is not None:
            raise ValueError("--gradient: only with a classifier CONFIG (it sets its training)")
        structure = {k: getattr(args, k) for k in STRUCTURE if getattr(args, k) is not None}
        work = {
            "model": QubitModel(**structure),
            "gateset": None,
            "shots": None,
            "circuits": None,
            "breakdown": None,
        }
    for name in ("shots", "circuits"):  # options override the config
        if getattr(args, name, None) is not None:
            work[name] = getattr(args, name)
            work["breakdown"] = None if name == "circuits" else work["breakdown"]
    return work


def _classify_workload(path: str, gradient: str | None = None) -> dict:
    """The circuits a classifier config runs: a training run of ``train.epochs`` epochs,
    each a forward and a gradient pass over the training split and one forward pass over
    the validation split (the split of ``qgan.classify.data.split``).

    ``gradient``: count that hardware gradient instead of ``train.gradient``. ``autodiff``
    differentiates the simulated state and has no gradient circuits to run on hardware: it
    is counted as ``parameter_shift``, the hardware gradient of the same (exact) value.
    """
    import math

    from qgan.classify.config import load_config
    from qgan.qubit import QubitModel
    from qgan.qubit.gradients import gradient_circuits_per_sample
    from qgan.qubit.ionq.options import IonQOptions
    from qgan.qubit.model import structure_of

    cfg = load_config(path)
    m, t, d = cfg.model, cfg.train, cfg.data
    if m.kind != "qubit":
        raise ValueError(f"config key model.kind: IonQ runs qubit models, got {m.kind!r}")
    method = t.gradient if gradient is None else gradient
    if method == "autodiff":  # no circuits hardware could run: the shift rule's instead
        method = "parameter_shift"
    model = QubitModel(**structure_of(m))
    options = IonQOptions(**cfg.backend.options) if cfg.backend.kind == "ionq" else IonQOptions()
    pool = POOL_SIZE[d.kind] if d.npz is None else _npz_size(str(d.npz))
    n = pool if d.n_samples is None else min(d.n_samples, pool)
    n_val = math.ceil(d.validation_fraction * n)
    n_train = n - n_val
    per_sample = gradient_circuits_per_sample(method, model.n_params)
    breakdown = {
        "epochs": t.epochs,
        "train_forward": n_train * t.epochs,
        "train_gradient": n_train * per_sample * t.epochs,
        "validation": n_val * t.epochs,
    }
    return {
        "model": model,
        "gateset": options.native_gateset or options.system or "aria",
        "target": options.target if cfg.backend.kind == "ionq" else None,
        "shots": t.shots,
        "circuits": sum(v for k, v in breakdown.items() if k != "epochs"),
        "breakdown": breakdown,
        "gradient": method,
        "config_gradient": t.gradient,
    }


def _npz_size(path: str) -> int:
    """Images in a ``data.path`` archive (its ``labels`` array)."""
    import numpy as np

    try:
        with np.load(path) as npz:
            return len(npz["labels"])
    except (OSError, KeyError, ValueError) as err:
        raise ValueError(f"config key data.path: cannot read {path!r} ({err})") from None


def _describe(model) -> str:
    return (
        f"{model.n_qubits}-qubit model, depth {model.depth} ({model.encoding} encoding, "
        f"{model.entangler} entangler, {model.topology}, {model.measurement} readout)"
    )


def trained_circuit(run_dir, index: int = 0):
    """The circuit of a trained classifier run for one validation input, angles bound.

    Args:
        run_dir: a run directory of ``qgan classify`` (``config.yaml``, ``features.npz``,
            ``checkpoints/final``) of a qubit model.
        index: which input of the run's validation split (the seeded split of
            :func:`qgan.classify.data.split`, in its order), 0-based.

    Returns:
        ``(circuit, info)``: the ``cirq.Circuit`` (:meth:`QubitLayer.to_cirq` of the trained
        layer, measured) and ``info``: ``run_dir``, ``checkpoint``, ``input``,
        ``n_validation``, ``label``, ``predicted``, ``features`` ([n_qubits] list, the
        circuit's input), ``readout`` (the trained layer's readouts for it, the head's
        inputs), ``gateset`` (the config's IonQ gateset or ``aria``) and ``model``.

    Raises:
        ValueError: not a classifier run, no checkpoint, a classical model, or ``index``
            outside the validation split (one line each).
    """
    import numpy as np

    from qgan.cli import import_tensorflow

    import_tensorflow()  # quiet: TensorFlow's start-up lines are dropped (see qgan.cli)
    from qgan.classify.data import load_images, split
    from qgan.classify.training import load_classifier

    run_dir = Path(run_dir)
    clf = load_classifier(run_dir)
    cfg = clf.cfg
    if clf.circuit is None:
        raise ValueError(
            f"run_dir: {str(run_dir)!r} trained a {cfg.model.kind} model; IonQ runs qubit models"
        )
    data = load_images(cfg.data, cfg.seed)
    val = split(data, cfg.data.validation_fraction, cfg.seed, cfg.data.stratify).validation
    if not 0 <= index < len(val):
        raise ValueError(
            f"--input: the run's validation split has {len(val)} inputs (0..{len(val) - 1}), "
            f"got {index}"
        )
    x = clf.features(val.images[index : index + 1])  # [1, n_qubits] float32
    logits = clf.logits_of_features(x)
    readout = clf.circuit(x).numpy()[0]
    circuit = clf.circuit.to_cirq(x[0].astype(np.float64), measure=True)
    gateset = "aria"
    if cfg.backend.kind == "ionq":
        from qgan.qubit.ionq.options import IonQOptions

        options = IonQOptions(**cfg.backend.options)
        gateset = options.native_gateset or options.system or "aria"
    info = {
        "run_dir": str(run_dir),
        "checkpoint": "checkpoints/final/ckpt",
        "input": int(index),
        "n_validation": len(val),
        "label": int(val.labels[index]),
        "predicted": int(np.argmax(logits[0])),
        "features": [float(v) for v in x[0]],
        "readout": [float(v) for v in readout],
        "gateset": gateset,
        "model": clf.circuit.model,
    }
    return circuit, info


def _compile(args) -> int:
    import cirq_ionq
    import numpy as np

    from qgan._io import write_text_atomic
    from qgan.qubit.ionq.compilation import compile_with_report
    from qgan.qubit.ionq.estimate import sample_circuit

    trained = args.config is not None and Path(args.config).is_dir()
    if args.input is not None and not trained:
        raise ValueError("--input: only with a trained run directory (RUN_DIR)")
    if trained:
        given = [k for k in STRUCTURE if getattr(args, k) is not None]
        if given:
            raise ValueError(
                f"--{given[0].replace('_', '-')}: a run directory's circuit is the trained one"
            )
        circuit, info = trained_circuit(args.config, 0 if args.input is None else args.input)
        model = info["model"]
        gateset = args.gateset or info["gateset"]
        what = (
            f"the trained circuit of {info['run_dir']} ({info['checkpoint']}) for validation "
            f"input {info['input']} of {info['n_validation']} (label {info['label']}, "
            f"predicted {info['predicted']})"
        )
    else:
        work = _workload(args)
        model = work["model"]
        gateset = args.gateset or work["gateset"] or "aria"
        circuit = sample_circuit(model, np.random.default_rng(args.seed))
        what = f"one circuit with random features and angles (seed {args.seed})"
    compiled, report = compile_with_report(circuit, gateset)
    if args.output is not None:
        program = cirq_ionq.Serializer().serialize_single_circuit(compiled)
        payload = {"input": program.input, "metadata": program.metadata}
        write_text_atomic(args.output, json.dumps(payload, indent=1) + "\n")
    if args.qasm is not None:
        text = circuit.to_qasm(precision=QASM_PRECISION)
        write_text_atomic(args.qasm, text)
    if args.json:
        extra = {k: v for k, v in info.items() if k != "model"} if trained else {}
        print(json.dumps({"model": model.structure_key, **extra, **report.as_dict()}, indent=2))
        return 0
    if not args.quiet:
        print(f"{_describe(model)}: {what}, compiled to IonQ {gateset} native gates")
        print(report.table())
        natives = ", ".join(f"{name} x{n}" for name, n in report.native_gates.items())
        print(f"native gates: {natives}")
        if report.unitary_error is None:
            print("unitary check: skipped (more qubits than the check's limit)")
        else:
            print(
                "unitary check: max |U_compiled - e^{i phi} U_source| = "
                f"{report.unitary_error:.1e}"
            )
        if args.output is not None:
            print(f"IonQ JSON of the compiled circuit: {args.output}")
        if args.qasm is not None:
            print(f"OpenQASM 2.0 of the circuit before compilation: {args.qasm}")
    return 0


def _gradient_note(work: dict) -> str | None:
    """The line saying which hardware gradient an estimate counts when it is not the
    config's ``train.gradient`` (None when it is, or without a config)."""
    config, used = work.get("config_gradient"), work.get("gradient")
    if config is None or config == used:
        return None
    if config == "autodiff":
        why = (
            "train.gradient 'autodiff' differentiates the simulated state and cannot run on "
            f"hardware; counted as {used!r}, the hardware gradient it would need"
        )
        return why + (" (--gradient spsa for SPSA)" if used == "parameter_shift" else "")
    return f"train.gradient {config!r}; counted as --gradient {used!r}"


def _estimate(args) -> int:
    from qgan.qubit.ionq.estimate import DEFAULT_TARGETS, estimate_model, sources

    work = _workload(args)
    model, shots, circuits = work["model"], work["shots"], work["circuits"]
    if shots is None:
        raise ValueError("shots: the config has train.shots null; give --shots")
    if circuits is None:
        raise ValueError("circuits: give --circuits (or a classifier CONFIG)")
    targets = tuple(args.targets.split(",")) if args.targets else DEFAULT_TARGETS
    if not isinstance(shots, int):  # a train.shots schedule: one estimate per shot phase
        return _estimate_schedule(args, work, targets)
    estimate = estimate_model(model, circuits, shots, targets=targets, seed=args.seed)
    breakdown = work["breakdown"]
    if args.json:
        print(
            json.dumps(
                {
                    "model": model.structure_key,
                    "gradient": work.get("gradient"),
                    "gradient_note": _gradient_note(work),
                    "breakdown": breakdown,
                    **estimate.as_dict(),
                },
                indent=2,
            )
        )
        return 0
    if not args.quiet:
        print(f"{_describe(model)}: {circuits:,} circuits x {shots:,} shots")
        note = _gradient_note(work)
        if note:
            print(f"  {note}")
        if breakdown is not None:
            print(
                f"  {breakdown['epochs']} epochs ({work['gradient']}): "
                f"{breakdown['train_forward']:,} forward + {breakdown['train_gradient']:,} "
                f"gradient circuits on the training split, {breakdown['validation']:,} on the "
                "validation split"
            )
        print(estimate.table())
        for t in estimate.targets:
            if t.note:
                print(f"  {t.target}: {t.note}")
        print("Execution time only (no queue); figures from:")
        for source in sources(targets):
            print(f"  - {source}")
    return 0


def _estimate_schedule(args, work: dict, targets) -> int:
    """``estimate`` for a config whose ``train.shots`` is a schedule: the epochs grouped by
    their shots, one estimate per phase (its epochs' circuits), and the total per target
    and price list."""
    from qgan.qubit.ionq.estimate import estimate_model, sources

    schedule, breakdown = work["shots"], work["breakdown"]
    epochs = breakdown["epochs"]
    per_epoch = work["circuits"] // epochs
    counts: dict[int, int] = {}
    for epoch in range(1, epochs + 1):
        shots = schedule.at(epoch, epochs)
        counts[shots] = counts.get(shots, 0) + 1
    phases, totals = [], {}
    for shots, n_epochs in counts.items():
        est = estimate_model(
            work["model"], per_epoch * n_epochs, shots, targets=targets, seed=args.seed
        )
        phases.append({"epochs": n_epochs, "shots": shots, "estimate": est})
        for t in est.targets:
            for market, usd in t.costs.items():
                totals.setdefault(t.target, {})
                totals[t.target][market] = totals[t.target].get(market, 0.0) + usd
    if args.json:
        out = {
            "model": work["model"].structure_key,
            "gradient": work.get("gradient"),
            "gradient_note": _gradient_note(work),
            "breakdown": breakdown,
            "phases": [
                {"epochs": p["epochs"], "shots": p["shots"], **p["estimate"].as_dict()}
                for p in phases
            ],
            "total_usd": totals,
        }
        print(json.dumps(out, indent=2))
        return 0
    if not args.quiet:
        print(
            f"{_describe(work['model'])}: {work['circuits']:,} circuits over {epochs} epochs "
            f"in {len(phases)} shot phase(s)"
        )
        note = _gradient_note(work)
        if note:
            print(f"  {note}")
        for p in phases:
            print(f"\n{p['epochs']} epoch(s) at {p['shots']:,} shots per circuit:")
            print(p["estimate"].table())
        print("\nTotal (USD): " + "; ".join(
            f"{target} {market} {usd:,.2f}"
            for target, markets in totals.items()
            for market, usd in markets.items()
        ) if totals else "\nTotal: free")  # fmt: skip
        print("Execution time only (no queue); figures from:")
        for source in sources(targets):
            print(f"  - {source}")
    return 0


def _status(args) -> int:
    from qgan.qubit.ionq.store import RunStore

    root = Path(args.run_dir)
    if not root.is_dir():
        raise ValueError(f"run_dir: no such directory: {root}")
    if root.name == "ionq" and (root / "jobs").is_dir():
        root = root.parent
    store = RunStore(root)
    if not store.jobs:
        raise ValueError(f"run_dir: {root} has no IonQ jobs (no {root / 'ionq' / 'jobs'})")
    live = {}
    if args.refresh:
        from qgan.qubit.ionq.jobs import JobClient

        client = JobClient(target="simulator", remote_host=args.remote_host, retries=2)
        for record in store.open_jobs():
            if record.job_id is not None:
                live[record.name] = client.status(record.name, record.job_id)
    jobs = sorted(store.jobs.values(), key=lambda r: (r.created_at, r.name))
    if args.json:
        rows = [
            {
                "name": r.name,
                "job_id": r.job_id,
                "state": r.state,
                "server_status": live.get(r.name),
                "kind": r.kind,
                "target": r.target,
                "circuits": r.n_circuits,
                "shots": r.shots,
                "native_gates": r.native_gates,
                "estimated_usd": r.estimated_usd,
                "session_id": r.session_id,
                "error": r.error,
                "updated_at": r.updated_at,
            }
            for r in jobs
        ]
        payload = {"summary": store.summary(), "session": store.session(), "jobs": rows}
        print(json.dumps(payload, indent=2))
        return 0
    summary = store.summary()
    states = ", ".join(f"{n} {s}" for s, n in sorted(summary["states"].items()))
    print(
        f"{root}: {summary['jobs']} IonQ jobs ({states}); {summary['circuits_submitted']:,} "
        f"circuits, {summary['shots']:,} shots submitted; {summary['results']:,} circuit "
        "results saved"
    )
    session = store.session()
    if session is not None:
        print(f"IonQ session {session['id']} ({session['state']}, limits {session['settings']})")
    print("| job | id | state | target | circuits | shots | updated |")
    print("|---|---|---|---|---:|---:|---|")
    for r in jobs:
        state = r.state + (f" (server: {live[r.name]})" if r.name in live else "")
        print(
            f"| {r.name} | {r.job_id or '-'} | {state} | {r.target} | {r.n_circuits} | "
            f"{r.shots} | {r.updated_at} |"
        )
    for r in jobs:
        if r.error and r.state != "completed":
            print(f"{r.name}: {r.error}")
    return 0


def _add_model_options(parser, config_help: str = "classifier config (YAML)") -> None:
    """CONFIG and the structure options (defaults: ``qgan.qubit.defaults``, used without
    CONFIG), ``--seed``, ``--quiet`` / ``--json``."""
    d = STRUCTURE_DEFAULTS
    parser.add_argument("config", nargs="?", help=config_help)
    parser.add_argument("--n-qubits", type=int, help=f"qubits (default {d['n_qubits']})")
    parser.add_argument("--depth", type=int, help=f"ansatz layers (default {d['depth']})")
    choices = {
        "encoding": "angle, reupload or amplitude",
        "entangler": "cnot, ms or zz",
        "topology": "linear, ring or all_to_all",
        "measurement": "z, parity or z_parity",
    }
    for name, text in choices.items():
        parser.add_argument(f"--{name}", help=f"{text} (default {d[name]})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random circuit(s)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="print nothing"
    )
    mode.add_argument("--json", action="store_true", help="print the result as JSON")


def register(verbs) -> None:
    """Add ``ionq`` with its verbs ``compile``, ``estimate`` and ``status``."""
    ionq = verbs.add_parser("ionq", help="IonQ: compile, estimate cost and time, job status")
    sub = ionq.add_subparsers(dest="ionq_verb", required=True)

    comp = sub.add_parser("compile", help="compile a model circuit to IonQ native gates")
    _add_model_options(
        comp,
        "classifier config (YAML): one circuit with random features and angles; or a "
        "trained classifier's run directory: its circuit with the trained angles",
    )
    comp.add_argument(
        "--input",
        type=int,
        metavar="INDEX",
        help="with RUN_DIR: which input of the run's validation split (default 0)",
    )
    comp.add_argument(
        "--qasm", metavar="FILE", help="write the circuit (before compilation) as OpenQASM 2.0"
    )
    comp.add_argument(
        "--gateset", help="aria (GPI, GPI2, MS) or forte (ZZ); default: the config's target's"
    )
    comp.add_argument("-o", "--output", help="write the compiled circuit's IonQ JSON here")
    comp.set_defaults(run=_compile, positive=("n_qubits", "depth"))

    est = sub.add_parser("estimate", help="circuits, shots, native gates, cost and time")
    _add_model_options(est)
    est.add_argument("--circuits", type=int, help="circuits to run (default: the config's run)")
    est.add_argument("--shots", type=int, help="shots per circuit (default: train.shots)")
    est.add_argument("--targets", help="comma-separated targets (default: all known)")
    est.add_argument(
        "--gradient",
        choices=HARDWARE_GRADIENTS,
        help="count this hardware gradient instead of train.gradient (default for an "
        "autodiff config: parameter_shift)",
    )
    est.set_defaults(run=_estimate, positive=("n_qubits", "depth", "circuits", "shots"))

    status = sub.add_parser("status", help="the IonQ jobs and results of a run directory")
    status.add_argument("run_dir", help="a run directory (holding ionq/)")
    status.add_argument(
        "--refresh", action="store_true", help="ask IonQ for the status of unfinished jobs"
    )
    status.add_argument("--remote-host", help="IonQ API URL for --refresh")
    status.add_argument("--json", action="store_true", help="print the jobs as JSON")
    status.set_defaults(run=_status)
