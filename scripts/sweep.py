"""Configs x --set values x seeds as Ray Tune trials, and the aggregated report (thin
wrapper over ``qgan sweep``).

Usage:
    python scripts/sweep.py configs/bimodal.yaml configs/bimodal_classical.yaml \
        [--seeds 0-4] [--set KEY=V1,V2 ...] [--out reports/gan_bimodal] [--runs-dir DIR] \
        [--address auto|HOST:PORT] [--cpus-per-trial N] [--max-concurrent N] [--retries N] \
        [--resume]
"""

import sys

from qgan.cli import main

if __name__ == "__main__":
    sys.exit(main(["sweep", *sys.argv[1:]]))
