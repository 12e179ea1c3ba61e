"""Configs: defaults, YAML files, command-line overrides and their errors."""

from __future__ import annotations

import pytest

from training.config import DEFAULTS, apply_overrides, load_config, parse_override
from training.registry import get_method, trainable_methods

from .helpers import TOY_CONFIG


def test_file_then_overrides_in_order() -> None:
    cfg = load_config(TOY_CONFIG, ["train.lr=1e-4", "model.backbone_config.channels=[4,8]",
                                   "data.kind=room", "train.grad_clip=null"])
    assert cfg["train"]["lr"] == pytest.approx(1e-4)
    assert cfg["model"]["backbone_config"]["channels"] == [4, 8]
    assert cfg["data"]["kind"] == "room"
    assert cfg["train"]["grad_clip"] is None
    assert cfg["train"]["optimizer"] == DEFAULTS["train"]["optimizer"]  # default kept
    assert cfg["method"]["name"] == "toy_semantic"


def test_unknown_keys_and_bad_overrides_are_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"unknown config key 'train.lrr'"):
        load_config(TOY_CONFIG, ["train.lrr=1"])
    with pytest.raises(ValueError, match="not key=value"):
        parse_override("train.lr")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ValueError, match="YAML mapping"):
        load_config(bad)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="names no method"):
        load_config(None)


def test_free_form_sections_take_new_keys() -> None:
    cfg = apply_overrides(DEFAULTS, ["method.name=toy_semantic", "method.delta_pull=0.1",
                                     "model.backbone_config.blocks=2"])
    assert cfg["method"]["delta_pull"] == pytest.approx(0.1)
    assert cfg["model"]["backbone_config"]["blocks"] == 2


def test_every_registered_method_resolves() -> None:
    for name in trainable_methods():
        m = get_method(name)
        assert callable(m.build_model) and callable(m.build_loss)
        assert callable(m.build_targets) and callable(m.postprocess)
    with pytest.raises(ValueError, match="registered: "):
        get_method("no_such_method")


def test_every_shipped_config_builds_its_model() -> None:
    from training.trainer import prepare_config

    configs = sorted((TOY_CONFIG.parent).glob("*.yaml"))
    assert len(configs) >= 3
    for path in configs:
        cfg = prepare_config(load_config(path))
        model = get_method(cfg["method"]["name"]).build_model(cfg)
        assert model.input_spec()[0].dtype == "float32", path


def test_dump_round_trips_python_values() -> None:
    import yaml

    from training.config import dump_config

    cfg = apply_overrides(DEFAULTS, ["method.name=toy_semantic"])
    cfg["model"]["backbone_config"] = {"channels": (8, 16)}
    assert yaml.safe_load(dump_config(cfg))["model"]["backbone_config"]["channels"] == [8, 16]
