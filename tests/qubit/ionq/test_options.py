"""``qgan.qubit.ionq.options``: the validated ``ionq:`` options of the IonQ backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from qgan.qubit.ionq.options import IonQOptions, parse_options


def test_defaults():
    o = parse_options({})
    assert o.target == "simulator" and o.native_gateset == "aria" and o.noise is None
    assert o.batch and o.run_dir is None and o.timeout_s > 0


@pytest.mark.parametrize(
    "options, gateset",
    [
        ({"target": "qpu.aria-1"}, "aria"),
        ({"target": "qpu.aria-2"}, "aria"),
        ({"target": "qpu.forte-1"}, "forte"),
        ({"target": "qpu.forte-enterprise-1"}, "forte"),
        ({"noise_model": "forte-1"}, "forte"),
        ({"noise_model": "aria-2"}, "aria"),
        ({"noise_model": "ideal"}, "aria"),
        ({"gateset": "forte"}, "forte"),
        ({"target": "qpu.aria-1", "gateset": "qis"}, None),
    ],
)
def test_native_gateset_follows_the_target(options, gateset):
    assert parse_options(options).native_gateset == gateset


def test_noise_field():
    o = parse_options({"noise_model": "aria-1", "noise_seed": 3})
    assert o.noise == {"model": "aria-1", "seed": 3}
    assert parse_options({"noise_model": "ideal"}).noise == {"model": "ideal"}


def test_paths_and_ints_are_accepted():
    o = parse_options({"run_dir": Path("/tmp/x"), "timeout_s": 5, "retries": 0})
    assert o.run_dir == "/tmp/x" and o.timeout_s == 5.0


@pytest.mark.parametrize(
    "options, key",
    [
        ({"targt": "simulator"}, "ionq.targt"),
        ({"target": "qpu"}, "ionq.target"),
        ({"target": "harmony"}, "ionq.target"),
        ({"target": 3}, "ionq.target"),
        ({"gateset": "native"}, "ionq.gateset"),
        ({"gateset": "forte", "target": "qpu.aria-1"}, "ionq.gateset"),
        ({"noise_model": "aria-9"}, "ionq.noise_model"),
        ({"noise_model": "aria-1", "target": "qpu.aria-1"}, "ionq.noise_model"),
        ({"noise_seed": 1}, "ionq.noise_seed"),
        ({"remote_host": "api.ionq.co"}, "ionq.remote_host"),
        ({"timeout_s": 0}, "ionq.timeout_s"),
        ({"timeout_s": "10"}, "ionq.timeout_s"),
        ({"max_concurrency": 0}, "ionq.max_concurrency"),
        ({"max_circuits_per_job": 0}, "ionq.max_circuits_per_job"),
        ({"retries": -1}, "ionq.retries"),
        ({"poll_initial_s": 2.0, "poll_max_s": 1.0}, "ionq.poll_max_s"),
        ({"retry_initial_s": 2.0, "retry_max_s": 1.0}, "ionq.retry_max_s"),
        ({"batch": "yes"}, "ionq.batch"),
        ({"error_mitigation": {"debiasing": "no"}}, "ionq.error_mitigation"),
        ({"job_prefix": "a b"}, "ionq.job_prefix"),
        ({"api_key": "x"}, "ionq.api_key"),  # never an option: only IONQ_API_KEY
    ],
)
def test_bad_options_are_one_line_naming_the_key(options, key, one_line_naming):
    with pytest.raises(ValueError) as err:
        parse_options(options)
    one_line_naming(err, f"config key {key}")


def test_prefix_names_the_config_section(one_line_naming):
    with pytest.raises(ValueError) as err:
        parse_options({"timeout_s": -1}, prefix="backend")
    one_line_naming(err, "config key backend.timeout_s")


def test_options_are_frozen():
    o = IonQOptions()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        o.target = "qpu.aria-1"
