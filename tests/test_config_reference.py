"""The config reference (qgan/_config_reference.py) documents every key of every config
model, with the model's own type and default, so a key added without documentation fails
here. Oracle: the pydantic models' fields (``model_fields``, walked independently)."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import BaseModel

from qgan._config_reference import MEANINGS, missing_meanings, reference_markdown, rows
from qgan.classify.config import ClassifyConfig
from qgan.gan.config import RunConfig

MODELS = {"gan": RunConfig, "classify": ClassifyConfig}


def _is_model(annotation) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        default = field.get_default(call_default_factory=True)
        section = default if isinstance(default, BaseModel) else None
        if section is None:  # an optional section (default None) or a scalar-or-section union
            models = [a for a in get_args(field.annotation) if _is_model(a)]
            section = models[0] if models else None
        if section is not None:
            model_type = section if isinstance(section, type) else type(section)
            keys += _leaf_keys(model_type, f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


@pytest.mark.parametrize("workload", MODELS)
def test_every_config_key_has_a_meaning_and_every_meaning_a_key(workload):
    missing, stale = missing_meanings(workload, MODELS[workload])
    assert missing == [], f"add a meaning to qgan/_config_reference.py MEANINGS[{workload!r}]"
    assert stale == [], "meanings of keys the model no longer has"
    assert [r.key for r in rows(MODELS[workload])] == _leaf_keys(MODELS[workload])


def test_reference_lists_every_key_with_its_default():
    text = reference_markdown({w: (w, m) for w, m in MODELS.items()})
    defaults = RunConfig().model_dump(mode="json")
    line = next(ln for ln in text.splitlines() if ln.startswith("| `train.steps` |"))
    assert line.split(" | ")[2] == str(defaults["train"]["steps"])
    line = next(ln for ln in text.splitlines() if ln.startswith("| `generator.readout` |"))
    assert line.split(" | ")[2] == "[photon_samples, quadratures]"
    assert "int >= 1" in line or "one of" in line
    for workload, model in MODELS.items():
        for key in _leaf_keys(model):
            assert f"| `{key}` |" in text and MEANINGS[workload][key] in text.replace("\\|", "|")


def test_a_key_without_a_meaning_fails_the_reference():
    class Extra(BaseModel):
        undocumented_key: int = 3

    class Config(RunConfig):
        extra_section: Extra = Extra()

    with pytest.raises(ValueError, match="config key extra_section.undocumented_key: no meaning"):
        reference_markdown({"gan": ("GAN", Config)})
