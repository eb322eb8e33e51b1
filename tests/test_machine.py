"""Specification of ``qgan._machine``: the machine facts every timing report states."""

from __future__ import annotations

import os
import platform
import re

import numpy as np
import tensorflow as tf

from qgan._machine import cpu_model, machine_info


def test_machine_info_reports_this_process():
    import strawberryfields as sf

    info = machine_info()
    assert info["cores"] == os.cpu_count()
    assert info["python"] == platform.python_version()
    assert (info["tensorflow"], info["strawberryfields"], info["numpy"]) == (
        tf.__version__,
        sf.__version__,
        np.__version__,
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", info["date"])
    assert info["cpu"] == cpu_model() and info["cpu"]


def test_cpu_model_is_procs_model_name_where_there_is_one():
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
    except OSError:
        names = []
    assert cpu_model() == (names[0] if names else platform.processor() or "unknown")
