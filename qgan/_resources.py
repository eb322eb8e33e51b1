"""Resource estimates of a run config, checked against the machine before anything is built.

Base layer (no TensorFlow, no NumPy arrays): the config models' validators
(:mod:`qgan.gan.config`, :mod:`qgan.classify.config`) call :func:`check_fits` and
:func:`check_graph`, so a config whose state, layers, data or traced graph cannot fit is one
line naming the key, the size it needs and the largest setting that fits, before a run
directory is created or TensorFlow is imported. Every size is computed with Python ints
(``cutoff ** n_modes`` for 40 modes is exact, not an ``OverflowError``).

Memory available: ``QGAN_MEMORY_BYTES`` when set (tests fix it so results do not depend on
the machine), else ``MemAvailable`` of ``/proc/meminfo``, else the free physical pages
(``os.sysconf``).

Estimates (bytes, each a lower bound of what the run allocates at once):

- a simulated state (CV ``cutoff ** n_modes`` or qubit ``2 ** n_qubits`` amplitudes per
  sample, times the batch, times the complex dtype's size) times its gradient's working set
  (:func:`state_bytes`): reverse-mode autodiff keeps one state per gate;
- dense layers: weights times :data:`ADAM_COPIES` (weights, gradient and Adam's two
  moments) plus a batch of activations and their gradients;
- arrays of points: float64 ``[n, d]``; the energy distance of an evaluation holds three
  float64 pairwise-distance matrices of ``eval_samples ** 2`` entries.
"""

from __future__ import annotations

import os
from collections.abc import Callable

#: environment variable that fixes the available memory (bytes), for tests and for users
#: who want a run to use less than the whole machine
MEMORY_ENV = "QGAN_MEMORY_BYTES"
#: weights, gradient, and Adam's first and second moments: four copies of each weight
ADAM_COPIES = 4
#: the largest traced train step (gate and layer applications, unrolled over
#: ``train.d_steps`` and the circuit's layers and gates): a fixed bound, not a measurement;
#: tracing time and graph memory grow with it, and 1e6 layers never finish tracing. The
#: shipped configs trace at most a few hundred (bimodal: 2 x (68 gates + 4 layers) = 144)
MAX_GRAPH_OPS = 20_000
#: a simulated state's gradient working set, in states per gate of the circuit (plus the
#: state itself): reverse-mode autodiff keeps each gate's output for the backward pass.
#: Measured (2-core CPU, complex64, batch 256, configs/bimodal.yaml otherwise, 2 layers):
#: peak RSS of the first ``GANModel.train_step()`` minus the RSS after ``build_model``,
#: divided by the state size: cutoff 6 / 5 modes (94 gates, 15.9 MB state): 62 states
#: (0.66 per gate); cutoff 8 / 5 modes (67 MB state): 46 states (0.49 per gate). One state
#: per gate is the bound used (conservative by 1.5-2x there); the qubit simulator's working
#: set is estimated the same way, not measured
STATES_PER_GATE = 1


def available_memory() -> int:
    """Bytes of memory a run may use: ``QGAN_MEMORY_BYTES`` when set (an int), else
    ``MemAvailable`` from ``/proc/meminfo``, else the free physical pages."""
    value = os.environ.get(MEMORY_ENV)
    if value is not None:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{MEMORY_ENV} must be an int >= 1 (bytes), got {value!r}")
        return n
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**62  # unknown: no memory bound (the other checks still apply)


def human(n: int) -> str:
    """A byte count in decimal units, two significant digits: ``3.3 TB``, ``12 GB``,
    ``512 B``; beyond petabytes as a power of ten (``4.2e+25 B``)."""
    for unit, size in (("PB", 10**15), ("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            if n >= 1000 * 10**15:
                return f"{float(n):.1e} B"
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n} B"


def largest(fits: Callable[[int], bool], low: int, high: int) -> int | None:
    """The largest int ``v`` in ``[low, high]`` with ``fits(v)`` (``fits`` monotone:
    true up to some value, false above), or None when ``fits(low)`` is false."""
    if not fits(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def _refuse(
    needs: str,
    settings: dict[str, int],
    defaults: dict[str, int],
    bounds: dict[str, tuple[int, int]],
    fits: Callable[[dict], bool],
) -> None:
    """Raise the one-line ``ValueError`` of settings that do not fit: ``"<key>: <needs>;
    the largest <name> that fits is N (or other.key M)"``. The key blamed is the one of
    ``bounds`` furthest above its ``defaults`` value (the one a user most likely raised);
    for each key the largest value in its ``(minimum, maximum)`` bounds that ``fits`` with
    the other settings unchanged is named (none where even the minimum does not fit)."""
    found = {
        key: largest(lambda v, key=key: fits({**settings, key: v}), low, min(high, settings[key]))
        for key, (low, high) in bounds.items()
    }
    key = max(bounds, key=lambda k: settings[k] / max(defaults.get(k, 1), 1))
    name = key.rsplit(".", 1)[-1]
    name = "hidden width" if name == "hidden" else name
    others = [f"{k} {v}" for k, v in found.items() if k != key and v is not None]
    if found[key] is None:
        line = f"no {name} fits" + (f" ({', '.join(others)} would)" if others else "")
    else:
        line = f"the largest {name} that fits is {found[key]}"
        line += f" (or {', or '.join(others)})" if others else ""
    raise ValueError(f"{key}: {needs}; {line}")


def check_fits(
    what: str,
    need: Callable[[dict], int],
    settings: dict[str, int],
    defaults: dict[str, int],
    bounds: dict[str, tuple[int, int]],
) -> None:
    """Refuse when ``need(settings)`` bytes exceed :func:`available_memory`: a one-line
    ``ValueError`` (see :func:`_refuse`) such as ``generator.cutoff: a state of 200^4 x 256
    complex64 amplitudes needs 3.3 TB (with the gradient), 12 GB are available; the largest
    cutoff that fits is 13 (or train.batch_size 3)``.

    ``what``: the thing sized, worded to follow "<key>: "; ``settings``: dotted key ->
    value (every key ``need`` reads); ``bounds``: for each key that may be changed, the
    ``(minimum, maximum)`` searched for the largest fitting value.
    """
    available = available_memory()
    total = need(settings)
    if total > available:
        _refuse(
            f"{what} needs {human(total)}, {human(available)} are available",
            settings,
            defaults,
            bounds,
            lambda s: need(s) <= available,
        )


def check_graph(
    ops: Callable[[dict], int],
    settings: dict[str, int],
    defaults: dict[str, int],
    bounds: dict[str, tuple[int, int]],
) -> None:
    """Refuse a traced train step of more than :data:`MAX_GRAPH_OPS` ops (``ops(settings)``)
    in one line naming the key and the largest setting that fits (see :func:`_refuse`)."""
    total = ops(settings)
    if total > MAX_GRAPH_OPS:
        _refuse(
            f"the traced train step has {total:,} gate and layer ops, more than {MAX_GRAPH_OPS:,}",
            settings,
            defaults,
            bounds,
            lambda s: ops(s) <= MAX_GRAPH_OPS,
        )


def state_bytes(amplitudes: int, batch: int, itemsize: int, gates: int) -> int:
    """Bytes of a batch of simulated states with its gradient's working set: ``amplitudes``
    per sample (``cutoff ** n_modes``, ``2 ** n_qubits``), ``itemsize`` bytes each (8 for
    complex64, 16 for complex128), one kept state per gate (:data:`STATES_PER_GATE`) plus
    the state itself."""
    return amplitudes * batch * itemsize * (STATES_PER_GATE * gates + 1)


def dense_bytes(widths: list[int], batch: int, itemsize: int = 4) -> int:
    """Bytes of an MLP with layer widths ``widths`` (input first, output last) trained by
    Adam: weights and biases times :data:`ADAM_COPIES`, plus ``batch`` activations of every
    layer and their gradients."""
    weights = sum(a * b + b for a, b in zip(widths, widths[1:]))
    return itemsize * (ADAM_COPIES * weights + 2 * batch * sum(widths))


def points_bytes(n: int, dim: int) -> int:
    """Bytes of ``n`` float64 points of ``dim`` coordinates."""
    return 8 * n * dim


def energy_distance_bytes(n: int) -> int:
    """Bytes of the energy distance of two ``n``-point sets: three float64 ``[n, n]``
    squared-distance matrices (:func:`qgan.metrics.energy_distance`)."""
    return 3 * 8 * n * n
