"""Classifier verb: ``classify`` (train and score a qubit or classical classifier)."""

from __future__ import annotations

import json
import sys

from qgan.cli import add_run_options, config_overrides, import_tensorflow

#: ``qgan classify`` options -> the config keys they override
OVERRIDES = {
    "seed": "seed",
    "epochs": "train.epochs",
    "output_dir": "output.dir",
    "data_path": "data.path",
}


def _classify(args) -> int:
    from qgan._paths import check_output_dir
    from qgan.classify.config import load_config

    # validated before TensorFlow is imported: a bad config is one line, at once
    cfg = load_config(args.config, config_overrides(args, OVERRIDES))
    check_output_dir(cfg.output.dir)  # before anything is created or imported
    from qgan.classify.data import check_files  # NumPy only: data files read before TF

    check_files(cfg.data, args.evaluate)

    import_tensorflow()
    from qgan.classify.training import classify

    quiet = args.quiet or args.json
    try:
        result = classify(cfg, evaluate=args.evaluate, progress=not quiet)
    except KeyboardInterrupt:
        print("interrupted: the run directory is incomplete (no metrics.json)", file=sys.stderr)
        return 130
    except Exception as err:  # a backend's failure surfaces through TF as an OpError
        line = backend_failure(err)
        if line is None:
            raise
        print(f"qgan classify: error: {line}", file=sys.stderr)
        return 1
    from qgan.reports.kinds import write_report

    report = write_report(result.run_dir)
    m = result.metrics
    if args.json:
        print(json.dumps({"run_dir": str(result.run_dir), **m}, indent=2))
    elif args.quiet:
        print(result.run_dir)
    else:
        p = m["n_params"]
        print(f"run directory: {result.run_dir}")
        print(f"  validation accuracy  {m['accuracy']:.4f} ({m['n_validation']} images)")
        print(f"  train accuracy       {m['train_accuracy']:.4f} ({m['n_train']} images)")
        if "eval_accuracy" in m:
            print(f"  eval accuracy        {m['eval_accuracy']:.4f} ({m['n_eval']} images)")
        print(
            f"  parameters           {p['total']} (quantum {p['quantum']}, "
            f"classical {p['classical']})"
        )
        print(f"  circuits executed    {m['circuits_executed']} (shots {m['shots_executed']})")
        print(f"  wall time            {m['wall_s']:.1f} s")
        print(f"report: {report}")
    return 0


def backend_failure(err: BaseException) -> str | None:
    """One line for an IonQ job failure, raised directly or wrapped by TF's numpy_function
    (an ``OpError`` whose message holds the original ``IonQJobError: ...`` line); None for
    any other error, which is a bug and keeps its traceback."""
    from qgan.qubit.ionq.jobs import IonQJobError

    if isinstance(err, IonQJobError):
        return str(err).splitlines()[0]
    import tensorflow as tf

    if isinstance(err, tf.errors.OpError):
        for text in err.message.splitlines():
            for name in ("IonQJobTimeout", "IonQRejected", "IonQJobError"):
                if f"{name}: " in text:
                    return text[text.index(name) :].strip()
    return None


def register(verbs) -> None:
    """Add ``classify``."""
    p = verbs.add_parser("classify", help="train a qubit (or classical) image classifier")
    p.add_argument("config", help="YAML config, e.g. configs/fashion_mnist_qubit.yaml")
    p.add_argument(
        "--evaluate",
        metavar="FILE.npz",
        help="also score the trained model on this .npz (arrays images, labels)",
    )
    add_run_options(p, OVERRIDES)
    p.set_defaults(run=_classify, positive=("epochs",))
