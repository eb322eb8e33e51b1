"""Performance report of a GAN config (thin wrapper over ``qgan profile``).

Usage: python scripts/profile.py configs/bimodal.yaml [--batch-sizes 1,4,16,64,256,1024]
[--cutoffs 3,4,5,6] [--layers 1,2,3] [--repeats N] [--quality] [--out reports/NAME]
"""

import sys

from qgan.cli import main

if __name__ == "__main__":
    sys.exit(main(["profile", *sys.argv[1:]]))
