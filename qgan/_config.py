"""Reading and validating YAML run configs: shared by every workload's pydantic config."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError


def config_error(err: ValidationError) -> ValueError:
    """One line naming the first offending key of a pydantic ``ValidationError``."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        key, sep, rest = msg.partition(": ")
        if sep and " " not in key:  # validator messages start with the key they are about
            loc = f"{loc}.{key}" if loc and not key.startswith(loc) else key
            msg = rest
    elif "input" in first and first["type"] not in ("missing",):
        msg = f"{msg}, got {first['input']!r}"
    return ValueError(f"config key {loc or '<root>'}: {msg}")


def validate(model: type[BaseModel], data):
    """``model`` validated from a config mapping; a one-line ``ValueError`` naming the key."""
    if not isinstance(data, dict):
        raise ValueError(f"config must be a mapping of sections, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise config_error(err) from None


def read_yaml(path, overrides: dict | None = None) -> dict:
    """The mapping of a YAML config file with ``overrides`` (dotted key -> value) applied."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"config file {str(path)!r} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping of sections")
    for key, value in (overrides or {}).items():
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return data
