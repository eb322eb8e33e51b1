"""Specification: ``simulate`` agrees with Strawberry Fields' ``fock`` backend.

The oracle (``sf_fock`` fixture, see ``tests/conftest.py``) runs each program on SF's
NumPy ``fock`` backend, sample by sample with scalar arguments. Every amplitude of
``ket()`` must agree within 2e-5 (complex64) / 1e-10 (complex128), and so must SF's own
observables (``all_fock_probs``, ``mean_photon``, ``quad_expectation``, norm).

Programs are random (seeded, reproducible): 1-4 modes, cutoffs 2-8 with D**modes <= 4096,
preparations (Vacuum, Fock, Coherent, Squeezed), every supported gate incl.
Interferometer, two-mode gates on reversed mode pairs, literal and free parameters,
shared and per-sample [B] arguments given as floats, NumPy arrays, tf tensors and
Variables, with the batch inferred or given explicitly.

As Cirq's ``sparse_simulator_test.py`` runs every test with and without its optimisation,
the engine's agreement tests run with the planner's fusion and factoring on (the default)
and off (``planner`` fixture: one block per gate, one joint state), so a fault in either
optimisation, or one that the optimisation hides, cannot pass.
"""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberryfields import ops
from thewalrus import fock_gradients as tw

from qgan.photonic import FockResult, engine, simulate
from qgan.photonic import plan as planner_module
from qgan.photonic.plan import PlannerOptions
from qgan.photonic.program import parse_program

DTYPES = (tf.complex64, tf.complex128)
DTYPE_IDS = ("c64", "c128")

# (seed, n_modes, cutoff, n_gates, batch, explicit_batch)
RANDOM_CASES = [
    (0, 1, 2, 4, None, False),
    (1, 1, 5, 6, 3, False),
    (2, 1, 8, 8, None, False),
    (3, 2, 2, 6, 2, True),
    (4, 2, 3, 8, None, False),
    (5, 2, 5, 8, 3, False),
    (6, 2, 8, 10, None, False),
    (7, 2, 6, 10, 1, False),
    (8, 3, 3, 10, 3, False),
    (9, 3, 4, 10, None, False),
    (10, 3, 6, 12, 2, True),
    (11, 3, 8, 12, None, False),
    (12, 4, 2, 10, 3, False),
    (13, 4, 4, 12, None, False),
    (14, 4, 6, 12, 2, False),
    (15, 4, 8, 14, None, False),
    (16, 4, 8, 10, 2, True),
    (17, 2, 7, 12, 4, False),
]


@pytest.fixture(
    params=[
        PlannerOptions(),
        PlannerOptions(fuse=False, factor=False, batch_last=False, replay_gradient=False),
    ],
    ids=["fused-factored", "unfused-unfactored"],
)
def planner(request, monkeypatch):
    """The planner options the engine uses in this test (its default switched): every
    optimisation on, or every one off (one gate per block, one joint state, batch first,
    TensorFlow's own gradient of eager calls)."""
    monkeypatch.setattr(planner_module, "DEFAULT_OPTIONS", request.param)
    return request.param


def _case_id(case):
    seed, n, d, g, b, explicit = case
    batch = "nobatch" if b is None else (f"B{b}explicit" if explicit else f"B{b}")
    return f"seed{seed}-{n}modes-D{d}-{g}gates-{batch}"


def _quad_angles(seed):
    return (0.0, np.pi / 2, float(np.random.default_rng(1000 + seed).uniform(-np.pi, np.pi)))


def assert_result_matches_reference(res, ref, dtype, tol, check, label=""):
    """Every amplitude and every SF observable of ``res`` matches the fock oracle."""
    amp, obs = tol.amplitude[dtype], tol.observable[dtype]
    check.amplitudes(res.ket(), ref.ket(), amp, f"{label} ket")
    check.scaled(res.all_fock_probs(), ref.all_fock_probs(), obs, f"{label} all_fock_probs")
    check.scaled(res.norm(), ref.norm(), obs, f"{label} norm")
    check.scaled(res.leakage(), 1.0 - np.asarray(ref.norm()), obs, f"{label} leakage")
    for mode in range(ref.n_modes):
        mean, var = res.mean_photon(mode)
        ref_mean, ref_var = ref.mean_photon(mode)
        check.scaled(mean, ref_mean, obs, f"{label} mean_photon({mode}) mean")
        check.scaled(var, ref_var, obs, f"{label} mean_photon({mode}) var")
        for phi in _quad_angles(mode):
            mean, var = res.quad_expectation(mode, phi)
            ref_mean, ref_var = ref.quad_expectation(mode, phi)
            check.scaled(mean, ref_mean, obs, f"{label} quad_expectation({mode}, {phi}) mean")
            check.scaled(var, ref_var, obs, f"{label} quad_expectation({mode}, {phi}) var")


# --------------------------------------------------------------------------- the oracle


class TestOracle:
    """The oracle itself is trustworthy (it works around two SF fock-backend quirks)."""

    def test_reversed_two_mode_gate_follows_gate_definition(self, sf_fock, check, tol):
        """BSgate | (q[1], q[0]) acts with q[1] as its first mode (exact elements).

        SF 0.23's fock backend gets this wrong on pure states (it applies the gate as if
        on (q[0], q[1])); SF's tf backend and the gate definition agree with the oracle.
        """
        cutoff = 5
        prog = sf.Program(2)
        with prog.context as q:
            ops.Dgate(0.3, 0.1) | q[0]
            ops.Sgate(0.2, 0.5) | q[1]
            ops.BSgate(0.7, 0.3) | (q[1], q[0])
        psi = np.multiply.outer(
            tw.displacement(0.3, 0.1, cutoff)[:, 0], tw.squeezing(0.2, 0.5, cutoff)[:, 0]
        )  # psi[n0, n1]
        bs = tw.beamsplitter(0.7, 0.3, cutoff)  # [out_q1, out_q0, in_q1, in_q0]
        expected = np.einsum("abcd,dc->ba", bs, psi)
        ref = sf_fock(prog, cutoff)
        check.amplitudes(ref.ket(), expected, tol.amplitude[tf.complex128], "oracle")

    def test_mzgate_with_zero_internal_phase_is_applied(self, sf_fock, check, tol):
        """MZgate(0, phi_ex) = BS(pi/4, pi/2)^2 R(phi_ex) (a swap); SF's Engine skips it."""
        cutoff = 4
        prog = sf.Program(2)
        with prog.context as q:
            ops.Dgate(0.4, 0.3) | q[0]
            ops.MZgate(0.0, 1.7) | (q[0], q[1])
        psi = np.zeros((cutoff, cutoff), dtype=complex)
        psi[:, 0] = tw.displacement(0.4, 0.3, cutoff)[:, 0]
        expected = np.einsum("abcd,cd->ab", tw.mzgate(0.0, 1.7, cutoff), psi)
        check.amplitudes(sf_fock(prog, cutoff).ket(), expected, tol.amplitude[tf.complex128], "")

    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    def test_oracle_equals_plain_fock_backend_where_that_is_correct(self, sf_fock, check, tol):
        """No preparation on a multi-mode circuit, no gate with mode 0 second: identical."""
        cutoff = 4
        prog = sf.Program(3)
        a = prog.params("a")
        with prog.context as q:
            ops.Dgate(a, 0.2) | q[0]
            ops.Sgate(0.3, -0.4) | q[2]
            ops.BSgate(0.5, 0.1) | (q[0], q[1])
            ops.MZgate(0.3, 1.1) | (q[2], q[1])
            ops.S2gate(0.2, 0.4) | (q[1], q[2])
            ops.Kgate(0.3) | q[1]
            ops.CKgate(0.2) | (q[2], q[0])
            ops.Interferometer(np.array([[0, 1j], [1, 0]]) / 1.0) | (q[1], q[2])
        plain = sf.Engine("fock", backend_options={"cutoff_dim": cutoff}).run(prog, args={"a": 0.4})
        ref = sf_fock(prog, cutoff, {"a": 0.4})
        check.amplitudes(ref.ket(), plain.state.ket(), tol.amplitude[tf.complex128], "oracle")
        prog1 = sf.Program(1)
        with prog1.context as q:
            ops.Coherent(0.5, 0.3) | q[0]
            ops.Sgate(0.2, 0.1) | q[0]
        plain = sf.Engine("fock", backend_options={"cutoff_dim": 6}).run(prog1)
        ref = sf_fock(prog1, 6)
        check.amplitudes(ref.ket(), plain.state.ket(), tol.amplitude[tf.complex128], "oracle")
        mean, var = plain.state.mean_photon(0)
        check.scaled(ref.mean_photon(0), (mean, var), tol.observable[tf.complex128], "nbar")
        check.scaled(
            ref.quad_expectation(0, 0.7),
            plain.state.quad_expectation(0, 0.7),
            tol.observable[tf.complex128],
            "quad",
        )


# --------------------------------------------------------------------------- random programs


@pytest.mark.parametrize("case", RANDOM_CASES, ids=_case_id)
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_random_program_agrees_with_sf_fock(
    case, planner, make_random_program, sf_fock, tol, check
):
    seed, n_modes, cutoff, n_gates, batch, explicit = case
    assert cutoff**n_modes <= 4096
    for dtype, dtype_id in zip(DTYPES, DTYPE_IDS):
        rp = make_random_program(
            seed, n_modes, cutoff, n_gates, batch=batch, explicit_batch=explicit, dtype=dtype
        )
        ref = sf_fock(rp.prog, cutoff, rp.args, rp.batch_size)
        res = simulate(rp.prog, cutoff, args=rp.args, batch_size=rp.batch_size, dtype=dtype)
        assert isinstance(res, FockResult)
        assert res.batched == (rp.expected_batch is not None)
        label = f"[{dtype_id} {rp.description}]"
        assert_result_matches_reference(res, ref, dtype, tol, check, label)


@settings(max_examples=max(4, settings().max_examples // 2))
@given(
    seed=st.integers(0, 2**31 - 1),
    shape=st.sampled_from([(1, 6), (2, 2), (2, 5), (3, 3), (3, 5), (4, 3), (4, 4)]),
    n_gates=st.integers(1, 12),
    batch=st.sampled_from([None, 1, 2]),
    explicit=st.booleans(),
    dtype=st.sampled_from(DTYPES),
)
def test_hypothesis_random_programs(
    seed, shape, n_gates, batch, explicit, dtype, make_random_program, sf_fock, tol, check
):
    """Property form of the agreement test over hypothesis-drawn program shapes."""
    n_modes, cutoff = shape
    rp = make_random_program(
        seed, n_modes, cutoff, n_gates, batch=batch, explicit_batch=explicit, dtype=dtype
    )
    ref = sf_fock(rp.prog, cutoff, rp.args, rp.batch_size)
    res = simulate(rp.prog, cutoff, args=rp.args, batch_size=rp.batch_size, dtype=dtype)
    assert res.batched == (rp.expected_batch is not None)
    assert_result_matches_reference(res, ref, dtype, tol, check, str(rp.description))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_every_gate_kind_on_every_mode_pair_order(dtype, planner, sf_fock, tol, check):
    """All gates, all two-mode gates on both orders of a pair and on non-adjacent modes."""
    cutoff = 5
    prog = sf.Program(3)
    p = prog.params(*[f"x{i}" for i in range(6)])
    with prog.context as q:
        ops.Coherent(0.4, 0.3) | q[0]
        ops.Fock(1) | q[1]
        ops.Squeezed(0.3, -0.2) | q[2]
        ops.Dgate(p[0], 0.4) | q[1]
        ops.Sgate(0.25, p[1]) | q[0]
        ops.Rgate(p[2]) | q[2]
        ops.Kgate(0.4) | q[1]
        for i, j in [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)]:
            ops.BSgate(p[3], 0.3 + i) | (q[i], q[j])
            ops.MZgate(0.2 * j, p[4]) | (q[i], q[j])
            ops.S2gate(0.1, p[5]) | (q[i], q[j])
            ops.CKgate(0.3 * (i + 1)) | (q[i], q[j])
    args = {"x0": 0.3, "x1": 0.8, "x2": -0.6, "x3": 0.9, "x4": 1.7, "x5": -0.3}
    res = simulate(prog, cutoff, args=args, dtype=dtype)
    assert_result_matches_reference(res, sf_fock(prog, cutoff, args), dtype, tol, check)
    compiled = engine.compiled_circuit(prog, parse_program, cutoff, dtype)
    assert [p.options for p in compiled.plans.values()] == [planner]  # the switch took effect


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("modes", [(0, 1), (1, 0)])
def test_mzgate_with_zero_internal_phase_is_a_swap(dtype, modes, planner, tol, check):
    """MZgate(0, phi_ex) acts as defined (a swap with phases), never as an identity.

    (SF 0.23's ``Gate.apply`` skips any gate whose first parameter is 0, which drops
    this gate on SF's own backends; the exact elements say otherwise.)
    """
    cutoff = 4
    prog = sf.Program(2)
    with prog.context as q:
        ops.Dgate(0.4, 0.3) | q[0]
        ops.MZgate(0.0, 1.7) | (q[modes[0]], q[modes[1]])
    psi = np.zeros((cutoff, cutoff), dtype=complex)  # psi[n0, n1]
    psi[:, 0] = tw.displacement(0.4, 0.3, cutoff)[:, 0]
    mz = tw.mzgate(0.0, 1.7, cutoff)  # [out_first, out_second, in_first, in_second]
    spec = "abcd,cd->ab" if modes == (0, 1) else "abcd,dc->ba"
    expected = np.einsum(spec, mz, psi)
    res = simulate(prog, cutoff, dtype=dtype)
    check.amplitudes(res.ket(), expected, tol.amplitude[dtype], f"MZgate(0, 1.7) on {modes}")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_interferometer_on_permuted_register(dtype, planner, sf_fock, tol, check):
    """Interferometer(U) is decomposed as SF's fock compiler does; register order counts."""
    cutoff = 4
    rng = np.random.default_rng(21)
    from scipy.stats import unitary_group

    u3 = unitary_group.rvs(3, random_state=rng)
    u4 = unitary_group.rvs(4, random_state=rng)
    prog = sf.Program(4)
    a = prog.params("a")
    with prog.context as q:
        ops.Fock(1) | q[0]
        ops.Fock(2) | q[2]
        ops.Coherent(a, 0.2) | q[3]
        ops.Interferometer(u3) | (q[2], q[0], q[3])
        ops.Sgate(0.2, 0.1) | q[1]
        ops.Interferometer(u4) | (q[3], q[1], q[0], q[2])
    args = {"a": np.array([0.1, 0.5])}
    res = simulate(prog, cutoff, args=args, dtype=dtype)
    assert_result_matches_reference(res, sf_fock(prog, cutoff, args), dtype, tol, check)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_fock_preparations_up_to_the_cutoff(dtype, sf_fock, tol, check):
    """Fock(n) for every n < cutoff, mixed with a vacuum-prepared mode."""
    cutoff = 4
    for n in range(cutoff):
        prog = sf.Program(2)
        with prog.context as q:
            ops.Fock(n) | q[0]
            ops.Vacuum() | q[1]
            ops.BSgate(0.6, 0.2) | (q[0], q[1])
            ops.Dgate(0.2, 0.0) | q[1]
        res = simulate(prog, cutoff, dtype=dtype)
        assert_result_matches_reference(res, sf_fock(prog, cutoff), dtype, tol, check, f"n={n}")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_strong_truncation_matches_sf_semantics(dtype, sf_fock, tol, check):
    """Gates applied in order to the truncated state (not the truncated product of gates).

    Large displacement/squeezing at a small cutoff makes D(a) D(-a) != 1 after truncation;
    the engine must reproduce SF's truncated semantics exactly, leakage included.
    """
    cutoff = 4
    prog = sf.Program(2)
    with prog.context as q:
        ops.Dgate(1.2, 0.3) | q[0]
        ops.Dgate(1.2, 0.3 + np.pi) | q[0]
        ops.Sgate(0.9, 0.0) | q[1]
        ops.Sgate(0.9, np.pi) | q[1]
        ops.S2gate(0.8, 0.1) | (q[0], q[1])
    res = simulate(prog, cutoff, dtype=dtype)
    ref = sf_fock(prog, cutoff)
    assert float(1.0 - ref.norm()) > tol.nontrivial  # the case really is truncated
    assert_result_matches_reference(res, ref, dtype, tol, check)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_arg_container_types_agree(dtype, sf_fock, tol, check):
    """Python float, NumPy scalar/array, tf constant and tf.Variable args are equivalent."""
    cutoff = 5
    prog = sf.Program(2)
    a, b = prog.params("a", "b")
    with prog.context as q:
        ops.Dgate(a, 0.3) | q[0]
        ops.BSgate(b, 0.2) | (q[0], q[1])
    rdt = tf.float32 if dtype == tf.complex64 else tf.float64
    ref = sf_fock(prog, cutoff, {"a": 0.7, "b": np.array([0.1, 0.9])})
    for a_val in (
        0.7,
        np.float64(0.7),
        np.array(0.7),
        tf.constant(0.7, rdt),
        tf.Variable(0.7, dtype=rdt),
    ):
        for b_val in (
            np.array([0.1, 0.9]),
            [0.1, 0.9],
            tf.constant([0.1, 0.9], rdt),
            tf.Variable([0.1, 0.9], dtype=rdt),
        ):
            if isinstance(b_val, list):
                b_val = np.asarray(b_val)
            res = simulate(prog, cutoff, args={"a": a_val, "b": b_val}, dtype=dtype)
            label = f"a={type(a_val).__name__} b={type(b_val).__name__}"
            check.amplitudes(res.ket(), ref.ket(), tol.amplitude[dtype], label)


# --------------------------------------------------------------------------- backend="sf"


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("batch", [None, 1, 2], ids=["nobatch", "B1", "B2"])
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_sf_backend_gives_same_result(dtype, batch, sf_fock, tol, check):
    """backend="sf" (SF's tf backend) returns the same FockResult as the compiled engine,
    for a batch of one too (which SF's tf backend itself refuses).

    All parameters are free and given as tensors of the real dtype, so SF's tf backend
    sees the same numbers (it rounds Python-float literals through float32).
    """
    cutoff = 4
    prog = sf.Program(2)
    p = prog.params(*[f"x{i}" for i in range(9)])
    with prog.context as q:
        ops.Dgate(p[0], p[1]) | q[0]
        ops.Sgate(p[2], p[3]) | q[1]
        ops.BSgate(p[4], p[5]) | (q[0], q[1])
        ops.Kgate(p[6]) | q[0]
        ops.MZgate(p[7], p[8]) | (q[1], q[0])
        ops.Rgate(p[1]) | q[1]
        ops.CKgate(p[6]) | (q[0], q[1])
        ops.S2gate(p[2], p[5]) | (q[0], q[1])
    rdt = tf.float32 if dtype == tf.complex64 else tf.float64
    values = [0.3, 0.4, 0.2, -0.5, 0.7, 0.1, 0.3, 1.1, -0.4]
    args = {f"x{i}": tf.constant(v, rdt) for i, v in enumerate(values)}
    if batch is not None:
        args["x0"] = tf.constant([0.3, 0.6][:batch], rdt)
        args["x7"] = tf.constant([1.1, -0.2][:batch], rdt)
    compiled = simulate(prog, cutoff, args=args, dtype=dtype)
    via_sf = simulate(prog, cutoff, args=args, dtype=dtype, backend="sf")
    assert isinstance(via_sf, FockResult)
    assert via_sf.batched == compiled.batched == (batch is not None)
    assert via_sf.ket().dtype == dtype
    check.amplitudes(via_sf.ket(), compiled.ket().numpy(), tol.amplitude[dtype], "sf vs compiled")
    ref = sf_fock(prog, cutoff, {k: v.numpy() for k, v in args.items()})
    assert_result_matches_reference(via_sf, ref, dtype, tol, check, "backend=sf")


# --------------------------------------------------------------------------- shapes


def _small_program():
    prog = sf.Program(3)
    a, b = prog.params("a", "b")
    with prog.context as q:
        ops.Dgate(a, 0.1) | q[0]
        ops.BSgate(b, 0.0) | (q[0], q[2])
        ops.Sgate(0.1, 0.0) | q[1]
    return prog


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_result_shapes_and_dtypes_unbatched(dtype):
    cutoff = 3
    res = simulate(_small_program(), cutoff, args={"a": 0.2, "b": 0.3}, dtype=dtype)
    rdt = tf.float32 if dtype == tf.complex64 else tf.float64
    assert res.batched is False
    assert res.cutoff == cutoff and res.n_modes == 3
    assert tuple(res.ket().shape) == (3, 3, 3) and res.ket().dtype == dtype
    assert tuple(res.all_fock_probs().shape) == (3, 3, 3) and res.all_fock_probs().dtype == rdt
    for m in range(3):
        for pair in (res.mean_photon(m), res.quad_expectation(m), res.quad_expectation(m, 0.5)):
            assert isinstance(pair, tuple) and len(pair) == 2
            assert all(tuple(x.shape) == () for x in pair)
    assert tuple(res.norm().shape) == () and tuple(res.leakage().shape) == ()


@pytest.mark.parametrize(
    "args, batch_size, expected_batch",
    [
        ({"a": np.array([0.1, 0.2, 0.3]), "b": 0.3}, None, 3),  # inferred from a [B] arg
        ({"a": np.array([0.1, 0.2, 0.3]), "b": np.array([0.3, 0.1, 0.0])}, 3, 3),
        ({"a": 0.2, "b": 0.3}, 4, 4),  # explicit batch, shared args: B identical samples
        ({"a": np.array([0.1]), "b": 0.3}, None, 1),  # B = 1 is still a batch
    ],
    ids=["inferred", "explicit", "explicit-shared-args", "B1"],
)
def test_result_shapes_batched(args, batch_size, expected_batch, sf_fock, tol, check):
    cutoff = 3
    dtype = tf.complex128
    prog = _small_program()
    res = simulate(prog, cutoff, args=args, batch_size=batch_size, dtype=dtype)
    b = expected_batch
    assert res.batched is True
    assert res.cutoff == cutoff and res.n_modes == 3
    assert tuple(res.ket().shape) == (b, 3, 3, 3)
    assert tuple(res.all_fock_probs().shape) == (b, 3, 3, 3)
    for m in range(3):
        for pair in (res.mean_photon(m), res.quad_expectation(m), res.quad_expectation(m, 0.5)):
            assert isinstance(pair, tuple) and len(pair) == 2
            assert all(tuple(x.shape) == (b,) for x in pair)
    assert tuple(res.norm().shape) == (b,) and tuple(res.leakage().shape) == (b,)
    ref = sf_fock(prog, cutoff, args, batch_size=b)
    check.amplitudes(res.ket(), ref.ket(), tol.amplitude[dtype], "batched ket")


def test_batched_sample_equals_unbatched_run(tol, check):
    """Sample b of a batched run is the unbatched run with that sample's arguments."""
    cutoff = 4
    prog = _small_program()
    a = np.array([0.1, 0.5, -0.3])
    batched = simulate(prog, cutoff, args={"a": a, "b": 0.4}, dtype=tf.complex128)
    for i in range(3):
        single = simulate(prog, cutoff, args={"a": float(a[i]), "b": 0.4}, dtype=tf.complex128)
        check.amplitudes(
            batched.ket()[i], single.ket().numpy(), tol.amplitude[tf.complex128], f"sample {i}"
        )
        mean_b, var_b = batched.mean_photon(0)
        mean_s, var_s = single.mean_photon(0)
        check.scaled(mean_b[i], mean_s.numpy(), tol.observable[tf.complex128], "mean")
        check.scaled(var_b[i], var_s.numpy(), tol.observable[tf.complex128], "var")
