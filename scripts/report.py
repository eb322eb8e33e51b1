"""Render a run's report.md, or compare runs (thin wrapper over ``qgan report``).

Usage: python scripts/report.py RUN_DIR [RUN_DIR...]
       python scripts/report.py --compare RUN_DIR RUN_DIR [...] [--out reports/compare_x.md]
"""

import sys

from qgan.cli import main

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
