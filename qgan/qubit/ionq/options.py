"""Options of the IonQ backend: the ``ionq:`` mapping of a classifier config, validated.

Every option has a default; an unknown key, a wrong type or an impossible value is a
one-line ``ValueError`` naming the key (``config key ionq.timeout_s: ...``).
"""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

#: IonQ API targets: the cloud simulator and QPUs (``qpu.aria-1``, ``qpu.forte-1``, ...).
TARGET_PATTERN = re.compile(r"^(simulator|qpu\.(aria|forte)(-[a-z0-9]+)*)$")
#: Noise models of IonQ's cloud simulator (cirq_ionq 1.7 ``Service.run`` docstring).
NOISE_MODELS = ("ideal", "aria-1", "aria-2", "forte-1", "forte-enterprise-1")


class IonQOptions(BaseModel):
    """Validated options of :class:`~qgan.qubit.ionq.IonQBackend`.

    target: ``simulator`` or ``qpu.<system>`` (``qpu.aria-1``, ``qpu.forte-1``, ...).
    gateset: ``aria`` (GPI/GPI2/MS), ``forte`` (GPI/GPI2/ZZ) or ``qis`` (cirq gates, IonQ
        compiles them); default: the target's native gateset (simulator: from
        ``noise_model``, else aria).
    noise_model / noise_seed: the simulator's noise model (``ideal``, ``aria-1``, ...).
    remote_host: API URL (default: cirq_ionq's, ``https://api.ionq.co``, or the
        ``IONQ_REMOTE_HOST`` environment variable). The API key is read only from the
        ``IONQ_API_KEY`` environment variable; it is not an option.
    run_dir: where job ids and results are saved (``<run_dir>/ionq/``); None keeps them in
        memory only.
    timeout_s: how long to wait for one job to finish before raising.
    batch: send a list of circuits as one multi-circuit job (falls back to single-circuit
        jobs, ``max_concurrency`` at a time, if the API rejects multi-circuit jobs).
    max_circuits_per_job: circuits per multi-circuit job.
    max_concurrency: jobs in flight at a time.
    poll_*: polling interval, growing by ``poll_multiplier`` from ``poll_initial_s`` to
        ``poll_max_s``.
    retries / retry_*: retries of a request that got 429, 5xx or a dropped connection,
        with exponential backoff.
    cancel_on_timeout: cancel a job that timed out (default: leave it, a rerun collects it).
    request_timeout_s: time-out of one HTTP request (an expired one is retried).
    error_mitigation: IonQ's ``error_mitigation`` settings, e.g. ``{debiasing: false}``.
    seed: seeds the sampling of shots from the simulator's probabilities (results are
        reproducible and identical after a resume).
    partial_entanglers / verify: see :func:`qgan.qubit.ionq.compile`; ``verify`` checks the
        unitary of the first compiled circuit of each model structure.
    job_prefix: prefix of the job names.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    target: str = "simulator"
    gateset: Literal["aria", "forte", "qis"] | None = None
    noise_model: str | None = None
    noise_seed: int | None = None
    remote_host: str | None = None
    run_dir: str | None = None
    timeout_s: float = Field(3600.0, gt=0)
    batch: bool = True
    max_circuits_per_job: int = Field(500, ge=1)
    max_concurrency: int = Field(4, ge=1)
    poll_initial_s: float = Field(1.0, gt=0)
    poll_max_s: float = Field(30.0, gt=0)
    poll_multiplier: float = Field(1.5, ge=1)
    retries: int = Field(6, ge=0)
    retry_initial_s: float = Field(1.0, ge=0)
    retry_max_s: float = Field(60.0, ge=0)
    cancel_on_timeout: bool = False
    request_timeout_s: float = Field(60.0, gt=0)
    error_mitigation: dict[str, bool] | None = None
    seed: int = 0
    partial_entanglers: bool = True
    verify: bool = True
    job_prefix: str = Field("qgan", pattern=r"^[A-Za-z0-9_.-]{1,40}$")

    @field_validator("run_dir", mode="before")
    @classmethod
    def _path(cls, value):
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @model_validator(mode="after")
    def _consistent(self) -> IonQOptions:
        if not TARGET_PATTERN.match(self.target):
            raise ValueError(
                "target: expected 'simulator' or 'qpu.<system>' (e.g. qpu.aria-1, "
                f"qpu.forte-1), got {self.target!r}"
            )
        if self.noise_model is not None:
            if self.noise_model not in NOISE_MODELS:
                raise ValueError(
                    f"noise_model: expected one of {list(NOISE_MODELS)}, got {self.noise_model!r}"
                )
            if self.target != "simulator":
                raise ValueError(
                    f"noise_model: only the simulator target takes one, target is {self.target!r}"
                )
        if self.noise_seed is not None and self.noise_model is None:
            raise ValueError("noise_seed: only used with a noise_model")
        if self.remote_host is not None and not re.match(r"^https?://[^/]+", self.remote_host):
            raise ValueError(f"remote_host: expected an http(s) URL, got {self.remote_host!r}")
        system = self.system
        if self.gateset in ("aria", "forte") and system not in (None, self.gateset):
            raise ValueError(
                f"gateset: {self.gateset!r} gates do not run on target {self.target!r} "
                f"(use {system!r} or 'qis')"
            )
        if self.poll_max_s < self.poll_initial_s:
            raise ValueError(f"poll_max_s: must be >= poll_initial_s, got {self.poll_max_s}")
        if self.retry_max_s < self.retry_initial_s:
            raise ValueError(f"retry_max_s: must be >= retry_initial_s, got {self.retry_max_s}")
        return self

    @property
    def system(self) -> str | None:
        """'aria' or 'forte' when the target (or simulator noise model) fixes the system."""
        name = self.target if self.target != "simulator" else (self.noise_model or "")
        for system in ("aria", "forte"):
            if system in name:
                return system
        return None

    @property
    def native_gateset(self) -> str | None:
        """The gateset circuits are compiled to: 'aria', 'forte', or None for 'qis'."""
        if self.gateset == "qis":
            return None
        return self.gateset or self.system or "aria"

    @property
    def noise(self) -> dict | None:
        """The ``noise`` field of the job, or None."""
        if self.noise_model is None:
            return None
        out: dict = {"model": self.noise_model}
        if self.noise_seed is not None:
            out["seed"] = self.noise_seed
        return out


def parse_options(options: dict, prefix: str = "ionq") -> IonQOptions:
    """Validate ``options``; a problem is a one-line ``ValueError`` naming the key."""
    try:
        return IonQOptions(**options)
    except ValidationError as err:
        raise ValueError(_one_line(err, prefix)) from None


def _one_line(err: ValidationError, prefix: str) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        known = sorted(IonQOptions.model_fields)
        return f"config key {prefix}.{loc}: unknown key (known keys: {', '.join(known)})"
    if not loc:  # a model validator: "Value error, key: message (got ...)"
        loc, msg = msg.removeprefix("Value error, ").split(": ", 1)
        return f"config key {prefix}.{loc}: {msg}"
    return f"config key {prefix}.{loc}: {msg[:1].lower() + msg[1:]}, got {first.get('input')!r}"
