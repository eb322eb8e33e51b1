"""Train a classifier from a YAML config (thin wrapper over ``qgan classify``).

Usage: python scripts/classify.py configs/fashion_mnist_qubit.yaml [--evaluate FILE.npz]
[--seed N] [--epochs N] [--output-dir D] [--data-path P] [--quiet|--json]
"""

import sys

from qgan.cli import main

if __name__ == "__main__":
    sys.exit(main(["classify", *sys.argv[1:]]))
