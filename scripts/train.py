"""Train a GAN from a YAML config (thin wrapper over ``qgan train``).

Usage: python scripts/train.py configs/bimodal.yaml [--steps N] [--seed N] [--quiet|--json]
       python scripts/train.py --resume RUN_DIR [--steps N] [--quiet|--json]
"""

import sys

from qgan.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
