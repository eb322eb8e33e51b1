"""Specification: bad input to ``simulate`` raises a ValueError that names the culprit.

Errors are plain ``ValueError`` (never a TensorFlow error type), raised before any
simulation, for both backends, and also when ``simulate`` is traced inside the user's
``tf.function``.
"""

from __future__ import annotations

import re

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

from qgan.photonic import SUPPORTED_OPERATIONS, UNSUPPORTED_OPERATIONS, simulate

CONTRACT_SUPPORTED = (
    "Vacuum",
    "Fock",
    "Coherent",
    "Squeezed",
    "Dgate",
    "Sgate",
    "Rgate",
    "BSgate",
    "MZgate",
    "S2gate",
    "Kgate",
    "CKgate",
    "Interferometer",
)
BACKENDS = ("compiled", "sf")


def raises_value_error(match, fn, *args, **kwargs):
    """Assert fn raises a ValueError matching ``match`` that is not a TF error type."""
    with pytest.raises(ValueError, match=match) as info:
        fn(*args, **kwargs)
    assert not isinstance(info.value, tf.errors.OpError), f"TF error leaked: {info.value!r}"
    assert type(info.value).__module__.split(".")[0] != "tensorflow", repr(info.value)
    return info.value


def _valid_program():
    prog = sf.Program(2)
    r, theta = prog.params("enc_r", "bs_theta")
    with prog.context as q:
        ops.Dgate(r, 0.1) | q[0]
        ops.BSgate(theta, 0.2) | (q[0], q[1])
    return prog


VALID_ARGS = {"enc_r": 0.3, "bs_theta": 0.4}
R, THETA = "enc_r", "bs_theta"


# --------------------------------------------------------------------------- operations


def test_supported_operations_constant():
    names = set(SUPPORTED_OPERATIONS)
    assert set(CONTRACT_SUPPORTED) <= names
    issue_20 = {"LossChannel", "ThermalLossChannel", "Vgate", "Pgate", "CXgate", "CZgate"}
    assert issue_20 | {"Xgate", "Zgate", "Catstate", "DisplacedSqueezed", "Thermal"} <= names
    for unsupported in ("MeasureFock", "MeasureX", "GKP", "Ket", "DensityMatrix", "Ggate"):
        assert unsupported not in names
        assert unsupported in UNSUPPORTED_OPERATIONS


def _unsupported_programs():
    """(operation name, program) pairs, each program otherwise valid."""
    cases = []

    def add(name, apply, n_modes=2):
        prog = sf.Program(n_modes)
        with prog.context as q:
            ops.Dgate(0.2, 0.0) | q[0]
            apply(q)
        cases.append(pytest.param(name, prog, id=name))

    add("MeasureFock", lambda q: ops.MeasureFock() | q[0])
    add("Fouriergate", lambda q: ops.Fouriergate() | q[1])
    add("MeasureHomodyne", lambda q: ops.MeasureHomodyne(0.0) | q[1])
    add("GKP", lambda q: ops.GKP() | q[1])
    add("Ket", lambda q: ops.Ket(np.eye(4)[0]) | q[1])
    add("DensityMatrix", lambda q: ops.DensityMatrix(np.diag([1.0, 0, 0, 0])) | q[1])
    add("Ggate", lambda q: ops.Ggate(np.eye(2), np.zeros(2)) | q[1])
    return cases


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, prog", _unsupported_programs())
def test_unsupported_operation_is_named(name, prog, backend):
    err = raises_value_error(re.escape(name), simulate, prog, 4, backend=backend)
    message = str(err)
    missing = [op for op in CONTRACT_SUPPORTED if op not in message]
    assert not missing, f"message does not list supported ops {missing}: {message}"


@pytest.mark.parametrize("prep", ["Coherent", "Squeezed", "Fock", "Vacuum"])
def test_preparation_after_a_gate_on_that_mode_is_rejected(prep):
    """Preparations are only supported on a mode no gate has acted on yet."""
    prog = sf.Program(2)
    make = {
        "Coherent": lambda: ops.Coherent(0.3, 0.1),
        "Squeezed": lambda: ops.Squeezed(0.3, 0.1),
        "Fock": lambda: ops.Fock(1),
        "Vacuum": lambda: ops.Vacuum(),
    }[prep]
    with prog.context as q:
        ops.BSgate(0.3, 0.1) | (q[0], q[1])
        make() | q[1]
    raises_value_error(re.escape(prep), simulate, prog, 4)


def test_preparation_before_any_gate_is_accepted():
    prog = sf.Program(2)
    with prog.context as q:
        ops.Dgate(0.3, 0.1) | q[0]
        ops.Squeezed(0.2, 0.0) | q[1]  # mode 1 untouched so far: fine
        ops.BSgate(0.3, 0.1) | (q[0], q[1])
    simulate(prog, 4)


# --------------------------------------------------------------------------- cutoff / batch


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cutoff", [1, 0, -3, 2.5, 3.0, "4", None, True])
def test_bad_cutoff(cutoff, backend):
    raises_value_error(
        "cutoff", simulate, _valid_program(), cutoff, args=VALID_ARGS, backend=backend
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch_size", [0, -1, 2.5, 3.0, "3", True])
def test_bad_batch_size(batch_size, backend):
    raises_value_error(
        "batch_size",
        simulate,
        _valid_program(),
        3,
        args=VALID_ARGS,
        batch_size=batch_size,
        backend=backend,
    )


def test_unknown_backend():
    raises_value_error("backend", simulate, _valid_program(), 3, args=VALID_ARGS, backend="gpu")
    raises_value_error("backend", simulate, _valid_program(), 3, args=VALID_ARGS, backend=None)


# --------------------------------------------------------------------------- args


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_argument_is_named(backend):
    raises_value_error(THETA, simulate, _valid_program(), 3, args={R: 0.3}, backend=backend)
    err = raises_value_error(R, simulate, _valid_program(), 3, args=None, backend=backend)
    assert THETA in str(err)  # both missing names are reported
    prog = sf.Program(1)
    with prog.context as q:
        ops.Dgate(prog.params("only_name"), 0.0) | q[0]
    raises_value_error("only_name", simulate, prog, 3, args={}, backend=backend)


WRONG_SHAPES = [
    pytest.param({R: 0.3, THETA: np.zeros(4)}, 3, THETA, id="B+1-with-batch_size"),
    pytest.param({R: np.zeros(2), THETA: 0.4}, 3, R, id="B-1-with-batch_size"),
    pytest.param({R: 0.3, THETA: np.zeros((3, 1))}, None, THETA, id="2-D"),
    pytest.param({R: np.zeros((2, 2)), THETA: 0.4}, 2, R, id="2-D-with-batch_size"),
    pytest.param({R: tf.zeros([4]), THETA: 0.4}, 3, R, id="tf-B+1"),
    pytest.param({R: 0.3, THETA: tf.Variable(tf.zeros([1, 3]))}, None, THETA, id="tf-2-D"),
    pytest.param({R: np.zeros(0), THETA: 0.4}, 3, R, id="empty"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("args, batch_size, culprit", WRONG_SHAPES)
def test_argument_with_wrong_shape_is_named(args, batch_size, culprit, backend):
    raises_value_error(
        culprit,
        simulate,
        _valid_program(),
        3,
        args=args,
        batch_size=batch_size,
        backend=backend,
    )


def test_inconsistent_per_sample_lengths():
    """Two [B] args of different lengths (no batch_size): one of them is named."""
    raises_value_error(
        f"{R}|{THETA}",
        simulate,
        _valid_program(),
        3,
        args={R: np.zeros(2), THETA: np.zeros(3)},
    )


def test_wrong_shape_inside_user_tf_function():
    """Shape errors are ValueErrors at trace time too, not TF runtime errors."""
    prog = _valid_program()
    var = tf.Variable(tf.zeros([4], tf.float32))

    @tf.function
    def run():
        return simulate(prog, 3, args={R: 0.1, THETA: var}, batch_size=3).ket()

    raises_value_error(THETA, run)


def test_errors_do_not_depend_on_call_history():
    """A failing call does not poison later valid calls of the same program."""
    prog = _valid_program()
    raises_value_error(THETA, simulate, prog, 3, args={R: 0.3, THETA: np.zeros(4)}, batch_size=3)
    res = simulate(prog, 3, args=VALID_ARGS)
    assert tuple(res.ket().shape) == (3, 3)
