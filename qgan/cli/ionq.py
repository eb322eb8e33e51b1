"""IonQ verbs: ``qgan ionq compile`` (a model circuit's native-gate compilation),
``qgan ionq estimate`` (circuits, shots, native gates, cost and time per target, before
anything is submitted) and ``qgan ionq status RUN_DIR`` (the IonQ jobs of a run directory).

``compile`` and ``estimate`` take the circuit structure from a classifier config (CONFIG,
read by ``qgan.classify.config``: model, ``backend`` target, ``train`` shots, epochs and
gradient, ``data`` size) or from ``--n-qubits``/``--depth`` and the structure options
(then ``estimate`` needs ``--circuits`` and ``--shots``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

STRUCTURE = ("encoding", "entangler", "topology", "measurement")


#: Images in a loader's pool (no .npz: digits, data.full) when ``data.n_samples`` is null.
POOL_SIZE = {"fashion_mnist": 60000, "digits": 1797}


def _workload(args) -> dict:
    """What the command line describes: ``model`` (QubitModel), ``gateset``, ``shots``,
    ``circuits`` and ``breakdown`` (from CONFIG, or from the structure options)."""
    from qgan.qubit import QubitModel

    if args.config is not None:
        work = _classify_workload(args.config)
    else:
        if args.n_qubits is None or args.depth is None:
            raise ValueError("give a classifier CONFIG, or --n-qubits and --depth")
        structure = {k: getattr(args, k) for k in STRUCTURE if getattr(args, k) is not None}
        work = {
            "model": QubitModel(args.n_qubits, args.depth, **structure),
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


def _classify_workload(path: str) -> dict:
    """The circuits a classifier config runs: a training run of ``train.epochs`` epochs,
    each a forward and a gradient pass over the training split and one forward pass over
    the validation split (the split of ``qgan.classify.data.split``)."""
    import math

    from qgan.classify.config import load_config
    from qgan.qubit import QubitModel
    from qgan.qubit.gradients import gradient_circuits_per_sample
    from qgan.qubit.ionq.options import IonQOptions

    cfg = load_config(path)
    m, t, d = cfg.model, cfg.train, cfg.data
    if m.kind != "qubit":
        raise ValueError(f"config key model.kind: IonQ runs qubit models, got {m.kind!r}")
    model = QubitModel(
        m.n_qubits,
        m.depth,
        encoding=m.encoding,
        entangler=m.entangler,
        topology=m.topology,
        measurement=m.measurement,
    )
    options = IonQOptions(**cfg.backend.options) if cfg.backend.kind == "ionq" else IonQOptions()
    pool = POOL_SIZE[d.kind] if d.npz is None else _npz_size(str(d.npz))
    n = pool if d.n_samples is None else min(d.n_samples, pool)
    n_val = math.ceil(d.validation_fraction * n)
    n_train = n - n_val
    per_sample = gradient_circuits_per_sample(t.gradient, model.n_params)
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
        "gradient": t.gradient,
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


def _compile(args) -> int:
    import cirq_ionq
    import numpy as np

    from qgan._io import write_text_atomic
    from qgan.qubit.ionq.compilation import compile_with_report
    from qgan.qubit.ionq.estimate import sample_circuit

    work = _workload(args)
    model = work["model"]
    gateset = args.gateset or work["gateset"] or "aria"
    circuit = sample_circuit(model, np.random.default_rng(args.seed))
    compiled, report = compile_with_report(circuit, gateset)
    if args.output is not None:
        program = cirq_ionq.Serializer().serialize_single_circuit(compiled)
        payload = {"input": program.input, "metadata": program.metadata}
        write_text_atomic(args.output, json.dumps(payload, indent=1) + "\n")
    if args.json:
        print(json.dumps({"model": model.structure_key, **report.as_dict()}, indent=2))
        return 0
    if not args.quiet:
        print(
            f"{_describe(model)}: one circuit with random features and angles (seed "
            f"{args.seed}), compiled to IonQ {gateset} native gates"
        )
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
    return 0


def _estimate(args) -> int:
    from qgan.qubit.ionq.estimate import DEFAULT_TARGETS, estimate_model, sources

    work = _workload(args)
    model, shots, circuits = work["model"], work["shots"], work["circuits"]
    if shots is None:
        raise ValueError("shots: the config has train.shots null; give --shots")
    if circuits is None:
        raise ValueError("circuits: give --circuits (or a classifier CONFIG)")
    targets = tuple(args.targets.split(",")) if args.targets else DEFAULT_TARGETS
    estimate = estimate_model(model, circuits, shots, targets=targets, seed=args.seed)
    breakdown = work["breakdown"]
    if args.json:
        print(
            json.dumps(
                {"model": model.structure_key, "breakdown": breakdown, **estimate.as_dict()},
                indent=2,
            )
        )
        return 0
    if not args.quiet:
        print(f"{_describe(model)}: {circuits:,} circuits x {shots:,} shots")
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
                "error": r.error,
                "updated_at": r.updated_at,
            }
            for r in jobs
        ]
        print(json.dumps({"summary": store.summary(), "jobs": rows}, indent=2))
        return 0
    summary = store.summary()
    states = ", ".join(f"{n} {s}" for s, n in sorted(summary["states"].items()))
    print(
        f"{root}: {summary['jobs']} IonQ jobs ({states}); {summary['circuits_submitted']:,} "
        f"circuits, {summary['shots']:,} shots submitted; {summary['results']:,} circuit "
        "results saved"
    )
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


def _add_model_options(parser) -> None:
    parser.add_argument("config", nargs="?", help="classifier config (YAML)")
    parser.add_argument("--n-qubits", type=int, help="qubits (without CONFIG)")
    parser.add_argument("--depth", type=int, help="ansatz layers (without CONFIG)")
    parser.add_argument("--encoding", help="angle, reupload or amplitude (default angle)")
    parser.add_argument("--entangler", help="cnot, ms or zz (default cnot)")
    parser.add_argument("--topology", help="linear, ring or all_to_all (default linear)")
    parser.add_argument("--measurement", help="z, parity or z_parity (default z)")
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
    _add_model_options(comp)
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
    est.set_defaults(run=_estimate, positive=("n_qubits", "depth", "circuits", "shots"))

    status = sub.add_parser("status", help="the IonQ jobs and results of a run directory")
    status.add_argument("run_dir", help="a run directory (holding ionq/)")
    status.add_argument(
        "--refresh", action="store_true", help="ask IonQ for the status of unfinished jobs"
    )
    status.add_argument("--remote-host", help="IonQ API URL for --refresh")
    status.add_argument("--json", action="store_true", help="print the jobs as JSON")
    status.set_defaults(run=_status)
