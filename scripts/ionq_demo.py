"""IonQ target demo, end to end, without the IonQ cloud.

1. Starts the loopback IonQ server of the test suite (``tests/qubit/ionq/ionq_loopback.py``:
   the REST API subset cirq_ionq 1.7 uses, simulating what it receives from IonQ's gate
   definitions) on 127.0.0.1, with a throw-away API key.
2. Compiles one circuit of the 8-qubit, depth-4 classifier model of
   ``configs/fashion_mnist_qubit.yaml`` to IonQ native gates (Aria:
   GPI, GPI2, MS; Forte: GPI, GPI2, ZZ) and prints the gate counts before and after.
3. Estimates circuits, shots, native gates, cost and QPU time of the batch on each target.
4. Runs the batch (>= 20 circuits) through ``IonQBackend`` -> ``cirq_ionq.Service`` as ONE
   multi-circuit job, saves it in a run directory, and compares the readouts with the
   local simulator's exact ones; then runs it again to show that nothing is resubmitted.

    python scripts/ionq_demo.py [--circuits 24] [--shots 1000] [--entangler cnot|ms|zz]
                                [--run-dir DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load_loopback():
    """The loopback server module of the test suite (not part of the installed package)."""
    path = ROOT / "tests" / "qubit" / "ionq" / "ionq_loopback.py"
    spec = importlib.util.spec_from_file_location("ionq_loopback", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["ionq_loopback"] = module
    spec.loader.exec_module(module)
    return module


def endpoint(path: str) -> str:
    """``/jobs/<uuid>/results/...`` -> ``/jobs/{id}/results/...``."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "jobs":
        parts[2] = "{id}"
    return "/".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=int, default=24, help="circuits in the batch")
    parser.add_argument("--shots", type=int, default=1000, help="shots per circuit")
    parser.add_argument("--run-dir", help="run directory (default: a temporary one)")
    parser.add_argument(
        "--entangler", default="cnot", help="cnot (configs/fashion_mnist_qubit.yaml), ms or zz"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.circuits < 1 or args.shots < 1:
        parser.error("--circuits and --shots must be >= 1")

    import tensorflow as tf

    from qgan.qubit import QubitModel, expectation_values
    from qgan.qubit.ionq import IonQBackend, compile_with_report
    from qgan.qubit.ionq.estimate import estimate_model, sample_circuit

    logging.basicConfig(level=logging.INFO, format="  log: %(message)s", stream=sys.stdout)
    for noisy in ("urllib3", "absl", "tensorflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    # the classifier circuit of configs/fashion_mnist_qubit.yaml (8 qubits, depth 4)
    model = QubitModel(8, 4, encoding="reupload", entangler=args.entangler, topology="ring",
                       measurement="z")  # fmt: skip
    print(f"model: {model.structure_key} ({model.n_params} angles)")

    print("\n== 1. compile one circuit (random features and angles) to IonQ native gates")
    circuit = sample_circuit(model, np.random.default_rng(args.seed))
    for gateset in ("aria", "forte"):
        _, report = compile_with_report(circuit, gateset)
        natives = ", ".join(f"{k} x{v}" for k, v in report.native_gates.items())
        print(f"\n{gateset}: {natives}; unitary error {report.unitary_error:.1e}; "
              f"{report.seconds * 1e3:.0f} ms")  # fmt: skip
        print(report.table())

    print(f"\n== 2. estimate: {args.circuits} circuits x {args.shots} shots")
    print(estimate_model(model, args.circuits, args.shots).table())

    print(f"\n== 3. run the batch on the loopback server ({args.circuits} circuits)")
    loopback = load_loopback()
    key = "demo-" + secrets.token_hex(8)  # throw-away; never printed
    os.environ["IONQ_API_KEY"] = key
    rng = np.random.default_rng(args.seed + 1)
    x = rng.uniform(-np.pi, np.pi, (args.circuits, model.n_features))
    p = rng.uniform(-np.pi, np.pi, (args.circuits, model.n_params))
    with tempfile.TemporaryDirectory() as tmp, loopback.LoopbackIonQ(key, job_seconds=0.5) as srv:
        run_dir = Path(args.run_dir or tmp)
        options = dict(remote_host=srv.url, run_dir=run_dir, poll_initial_s=0.1, poll_max_s=0.5,
                       seed=args.seed)  # fmt: skip
        start = time.perf_counter()
        readouts = IonQBackend(**options).expectations(model, x, p, args.shots)
        wall = time.perf_counter() - start
        jobs = srv.created_jobs()
        print(f"server: {len(jobs)} job(s): " + ", ".join(
            f"{j.body['type']} with {len(j.body['input'].get('circuits', [0]))} circuits, "
            f"gateset {j.body['input']['gateset']}" for j in jobs))  # fmt: skip
        gates = sorted({g["gate"] for j in jobs for c in j.body["input"]["circuits"]
                        for g in c["circuit"]})  # fmt: skip
        kinds = Counter(f"{r.method} {endpoint(r.path)}" for r in srv.requests)
        print(f"gates received: {gates}")
        print("requests: " + ", ".join(f"{k} x{n}" for k, n in kinds.items()))
        exact = expectation_values(model, x, p, dtype=tf.complex128).numpy()
        sigma = np.sqrt(np.clip(1 - exact**2, 0, None) / args.shots)
        z = np.abs(readouts - exact) / np.maximum(sigma, 1 / args.shots)
        print(f"readouts [{readouts.shape[0]}, {readouts.shape[1]}] in {wall:.2f} s; vs the local "
              f"simulator: max |diff| {np.abs(readouts - exact).max():.4f}, "
              f"max {z.max():.2f} standard errors (shot noise, {args.shots} shots)")  # fmt: skip
        files = sorted(str(f.relative_to(run_dir)) for f in run_dir.rglob("*.json"))
        print(f"run directory {run_dir}: {files}")

        print("\n== 4. the same call again (a resumed run): nothing is resubmitted")
        again = IonQBackend(**options).expectations(model, x, p, args.shots)
        print(f"jobs on the server: {len(srv.created_jobs())}; identical readouts: "
              f"{bool(np.array_equal(again, readouts))}")  # fmt: skip
        leaked = any(key in f.read_text() for f in run_dir.rglob("*.json"))
        print(f"API key in the run directory: {leaked}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
