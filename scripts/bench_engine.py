"""Benchmark the compiled Fock engine against SF's tf backend (thin wrapper over qgan.cli bench).

Usage: python scripts/bench_engine.py [--batch-size 256] [--cutoff 4] [--layers 2] [--json]
"""

import sys

from qgan.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
