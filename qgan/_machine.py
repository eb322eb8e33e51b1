"""The machine a measurement ran on: CPU model, core count, library versions and date.

Every report that holds timings (``qgan profile``, the GAN sweep report, the benchmarks in
``scripts/bench/``) states this at its top, so a number can be read beside its machine.
"""

from __future__ import annotations

import os
import platform
import time


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    """CPU model, core count, Python / TensorFlow / Strawberry Fields / NumPy versions and
    today's date (``YYYY-MM-DD``), as a JSON-ready dict for reports."""
    import qgan._compat  # noqa: F401  (SciPy shim before strawberryfields)

    import numpy as np
    import strawberryfields as sf
    import tensorflow as tf

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "strawberryfields": sf.__version__,
        "numpy": np.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


__all__ = ["cpu_model", "machine_info"]
