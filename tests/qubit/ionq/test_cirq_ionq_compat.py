"""``qgan.qubit.ionq._cirq_ionq_compat``: the cirq_ionq workarounds refuse versions they were
not tested on, and the request time-out reaches every HTTP call cirq_ionq makes.

That the workarounds are needed at all is checked by the loopback tests in
``test_jobs.py`` (``test_a_hung_status_request_times_out_and_is_retried`` and
``test_interleaved_single_and_batch_jobs_read_their_own_endpoints`` fail without them).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import cirq_ionq
import cirq_ionq.ionq_client
import pytest
import requests

from qgan.qubit.ionq import _cirq_ionq_compat as compat
from qgan.qubit.ionq.jobs import JobClient

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


@pytest.fixture
def untested_version(monkeypatch):
    """cirq-ionq 1.8.0 as the installed version (the version check's cache cleared)."""
    monkeypatch.setattr(compat, "installed_version", lambda: "1.8.0")
    compat._check_installed.cache_clear()
    yield "1.8.0"
    compat._check_installed.cache_clear()


def test_the_installed_version_is_a_tested_one():
    assert compat.check_version() == compat.installed_version()


@pytest.mark.parametrize("version", ["1.7.0", "1.7.3", "1.7.0rc1"])
def test_versions_in_the_tested_range_pass(version):
    assert compat.check_version(version) == version


@pytest.mark.parametrize("version", ["1.6.2", "1.8.0", "2.7.0", "1.70.0", "dev"])
def test_an_untested_version_is_refused_naming_it_and_the_range(version):
    with pytest.raises(RuntimeError) as info:
        compat.check_version(version)
    message = str(info.value)
    assert f"cirq-ionq {version} is installed" in message
    assert compat.TESTED_RANGE in message and "\n" not in message


def test_pyproject_bounds_cirq_ionq_to_the_tested_range():
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    bounds = [d for d in dependencies if d.replace(" ", "").startswith("cirq-ionq")]
    assert [b.replace(" ", "") for b in bounds] == [f"cirq-ionq{compat.TESTED_RANGE}"]


def test_nothing_is_patched_on_an_untested_version(untested_version, monkeypatch, api_key):
    monkeypatch.setattr(cirq_ionq.ionq_client, "requests", requests)
    with pytest.raises(RuntimeError, match=f"cirq-ionq {untested_version} is installed"):
        compat.set_request_timeout(5.0)
    with pytest.raises(RuntimeError, match=f"cirq-ionq {untested_version} is installed"):
        JobClient(target="simulator", remote_host="http://127.0.0.1:9").service()
    assert cirq_ionq.ionq_client.requests is requests


def test_the_request_timeout_reaches_every_http_method(monkeypatch):
    calls = []
    for method in ("get", "post", "put", "delete"):
        monkeypatch.setattr(
            requests, method, lambda *a, _m=method, **kw: calls.append((_m, kw.get("timeout")))
        )
    monkeypatch.setattr(cirq_ionq.ionq_client, "requests", requests)
    compat.set_request_timeout(7.0)
    compat.set_request_timeout(3.0)  # the last value set wins
    module_requests = cirq_ionq.ionq_client.requests
    for method in ("get", "post", "put", "delete"):
        getattr(module_requests, method)("http://127.0.0.1:9/x")
    module_requests.get("http://127.0.0.1:9/y", timeout=1.0)  # an explicit value is kept
    assert calls == [(m, (3.0, 3.0)) for m in ("get", "post", "put", "delete")] + [("get", 1.0)]
    assert module_requests.codes is requests.codes  # the rest of the module is requests'
