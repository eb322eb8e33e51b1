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


#: Fewest shots per circuit with which IonQ debiases a job ("Debiasing can't be used for jobs
#: with fewer than 500 shots", https://docs.ionq.com/guides/error-mitigation-debiasing).
DEBIAS_MIN_SHOTS = 500


class ErrorMitigation(BaseModel):
    """``error_mitigation`` of the IonQ options.

    debias: turn IonQ's debiasing on (true) or off (false); None leaves IonQ's default
        (on for QIS jobs of >= 500 shots on a QPU, off for native-gate jobs). Sent as the
        job's ``settings.error_mitigation.debiasing`` (the field name of IonQ's API v0.4, as
        cirq_ionq 1.7's ``Service.create_job`` docstring and qiskit-ionq's
        ``ErrorMitigation.DEBIASING`` send it). Debiasing needs at least
        :data:`DEBIAS_MIN_SHOTS` shots per circuit and a QPU target (IonQ: "not currently
        available for the IonQ Quantum Cloud simulator";
        https://docs.ionq.com/guides/error-mitigation-debiasing).
    debiasing: the API's own name for ``debias`` (either may be given, not both).

    A debiased job's results are read with the **averaged** aggregation of its variants
    (query ``sharpen=false``, IonQ API v0.3 "Get a Job's output" parameter that cirq_ionq
    1.7 sends, and ``aggregation=average``, the name qiskit-ionq's client uses): the mean
    of the variant histograms, an estimate of the outcome distribution, so expectation
    values stay unbiased. Sharpening (plurality voting: each variant's most likely outcome)
    suits circuits with one or a few peaked answers, not expectation values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    debias: bool | None = None
    debiasing: bool | None = None

    @model_validator(mode="after")
    def _one_name(self) -> ErrorMitigation:
        if self.debias is not None and self.debiasing is not None:
            raise ValueError("debias: give 'debias' or the API's name 'debiasing', not both")
        return self

    @property
    def enabled(self) -> bool | None:
        """Debiasing on (True), off (False) or IonQ's default (None)."""
        return self.debias if self.debias is not None else self.debiasing

    def body(self) -> dict | None:
        """The job's ``settings.error_mitigation`` object, or None."""
        return None if self.enabled is None else {"debiasing": self.enabled}


class SessionOptions(BaseModel):
    """``session`` limits of the IonQ options (each optional; none: IonQ's defaults).

    Sent to ``POST /sessions`` as ``settings.cost_limit`` (``{unit: usd, value}``),
    ``settings.job_count_limit`` and ``settings.duration_limit_min``, the fields of IonQ's
    API v0.4 "Create session" (https://docs.ionq.com/api-reference/v0.4/sessions/create-session).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    max_cost_usd: float | None = Field(None, gt=0)
    max_jobs: int | None = Field(None, ge=1)
    max_minutes: int | None = Field(None, ge=1)

    def settings(self) -> dict:
        """The ``settings`` object of the session creation request."""
        out: dict = {}
        if self.max_jobs is not None:
            out["job_count_limit"] = self.max_jobs
        if self.max_minutes is not None:
            out["duration_limit_min"] = self.max_minutes
        if self.max_cost_usd is not None:
            out["cost_limit"] = {"unit": "usd", "value": self.max_cost_usd}
        return out


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
    error_mitigation: IonQ's error mitigation (:class:`ErrorMitigation`): ``{debias: true}``
        turns debiasing on (QPU targets only, at least :data:`DEBIAS_MIN_SHOTS` shots per
        circuit); the averaged aggregation of its variants is read.
    max_cost_usd: budget guard (USD): a run whose estimated cost exceeds it is refused
        before anything is submitted (:meth:`IonQBackend.preflight` for a whole run; every
        ``run`` call also checks the estimated cost of the jobs submitted so far plus its
        own).
    session: ``true`` or ``{max_cost_usd, max_jobs, max_minutes}`` (:class:`SessionOptions`;
        false or absent: no session): run every job in one IonQ session with those
        limits, created at the first job, re-attached after a restart, ended by
        :meth:`IonQBackend.close`.
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
    error_mitigation: ErrorMitigation | None = None
    max_cost_usd: float | None = Field(None, gt=0)
    session: bool | SessionOptions | None = None
    seed: int = 0
    partial_entanglers: bool = True
    verify: bool = True
    job_prefix: str = Field("qgan", pattern=r"^[A-Za-z0-9_.-]{1,40}$")

    @field_validator("run_dir", mode="before")
    @classmethod
    def _path(cls, value):
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("session", mode="before")
    @classmethod
    def _session(cls, value):
        # a mapping is validated here: inside the union pydantic's error would name
        # 'session.bool' instead of the key
        if isinstance(value, dict):
            try:
                return SessionOptions(**value)
            except ValidationError as err:
                first = err.errors()[0]
                key = ".".join(str(p) for p in first["loc"])
                if first["type"] == "extra_forbidden":
                    known = ", ".join(SessionOptions.model_fields)
                    raise ValueError(f"{key}: unknown key (known keys: {known})") from None
                msg = first["msg"]
                raise ValueError(
                    f"{key}: {msg[:1].lower() + msg[1:]}, got {first.get('input')!r}"
                ) from None
        if value is not None and not isinstance(value, bool | SessionOptions):
            raise ValueError(
                f"expected true or a mapping {{max_cost_usd, max_jobs, max_minutes}}, got {value!r}"
            )
        return value

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
        if self.debias and self.target == "simulator":
            raise ValueError(
                "error_mitigation: IonQ debiases only on QPU targets (not on its simulator), "
                "target is 'simulator'"
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
    def debias(self) -> bool:
        """Whether debiasing is requested (``error_mitigation.debias: true``)."""
        return bool(self.error_mitigation is not None and self.error_mitigation.enabled)

    @property
    def error_mitigation_body(self) -> dict | None:
        """The job's ``settings.error_mitigation`` object, or None."""
        return None if self.error_mitigation is None else self.error_mitigation.body()

    @property
    def session_options(self) -> SessionOptions | None:
        """The session limits (``session: true``: no limits), or None without a session."""
        if self.session is None or self.session is False:
            return None
        return SessionOptions() if self.session is True else self.session

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
        known = sorted(_fields_at(first["loc"][:-1]))
        return f"config key {prefix}.{loc}: unknown key (known keys: {', '.join(known)})"
    if loc and msg.startswith("Value error, "):  # a field validator's ValueError
        text = msg.removeprefix("Value error, ")
        key, _, rest = text.partition(": ")
        if rest and re.fullmatch(r"[a-z_]+", key):
            return f"config key {prefix}.{loc}.{key}: {rest}"
        return f"config key {prefix}.{loc}: {text}"
    if not loc:  # a model validator: "Value error, key: message (got ...)"
        loc, msg = msg.removeprefix("Value error, ").split(": ", 1)
        return f"config key {prefix}.{loc}: {msg}"
    return f"config key {prefix}.{loc}: {msg[:1].lower() + msg[1:]}, got {first.get('input')!r}"


def _fields_at(loc: tuple) -> list[str]:
    """The keys of the options section at ``loc`` (the top level, or a nested section)."""
    nested = {"error_mitigation": ErrorMitigation, "session": SessionOptions}
    model = nested.get(str(loc[0])) if loc else None
    return list((model or IonQOptions).model_fields)


def check_debias_shots(options: IonQOptions, shots: int, where: str = "shots") -> None:
    """One-line ValueError when debiasing is on and ``shots`` is below
    :data:`DEBIAS_MIN_SHOTS` (``where`` names what set the shots)."""
    if options.debias and shots < DEBIAS_MIN_SHOTS:
        raise ValueError(
            f"error_mitigation.debias: IonQ debiasing needs at least {DEBIAS_MIN_SHOTS} shots "
            f"per circuit, {where} gives {shots}"
        )
