"""YAML training configs with defaults and ``key.sub=value`` command-line overrides.

A config is a nested dict. :data:`DEFAULTS` gives every key the framework reads; a config file
overrides any of them (and adds method- or backbone-specific keys); overrides on the command
line are ``dotted.key=value`` with ``value`` parsed as YAML (``train.lr=1e-3``,
``model.backbone_config.channels=[8,16]``, ``data.kind=toy``). Unknown top-level keys and
unknown framework keys are errors, so a typo never silently trains the wrong thing.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Every framework key with its default (method/backbone sections take free-form keys).
DEFAULTS: dict[str, Any] = {
    "name": "run",
    "seed": 0,
    "output_dir": "runs",
    "method": {"name": None},
    "model": {"backbone": "sparse_unet", "backbone_config": {}},
    "data": {
        "source": "synthetic",      # synthetic | scannet | s3dis
        "kind": "toy",              # synthetic world kind: toy | room
        "train_seeds": [0, 8],      # synthetic: range(start, stop) of world seeds
        "val_seeds": [100, 102],
        "val_on_train_ok": False,   # allow val_seeds to overlap train_seeds (overfit checks only)
        "spacing": 0.05,            # synthetic surface point spacing, metres
        "world": {},                # synthetic: make_world parameters (touching_fraction, ...)
        "cache_dir": None,          # cache generated scenes as .npz here (None: on the fly)
        "root": None,               # scannet / s3dis dataset root
        "train_split": [],          # scannet scene names / s3dis areas for training
        "val_split": [],
        "voxel_size": 0.05,         # sparse / dense backbones, metres
        "grid_shape": [64, 64, 32],  # dense backbone grid
        "max_points": None,         # random subset per scene (None: all)
        "features": ["rgb"],        # per-point input features: rgb, xyz, normals
        "batch_size": 2,
        "num_workers": 0,
    },
    "augment": {
        "enabled": True,
        "rotate_z": True,           # uniform rotation about z
        "flip_x": 0.5,              # probabilities of mirroring x / y
        "flip_y": 0.5,
        "scale": [0.9, 1.1],        # uniform isotropic scale range
        "jitter": 0.005,            # Gaussian position noise, metres (std)
        "color_jitter": 0.05,       # Gaussian colour noise (std, colours in [0, 1])
    },
    "train": {
        "epochs": 10,
        "optimizer": "adam",        # adam | adamw | sgd
        "lr": 1e-3,
        "weight_decay": 0.0,
        "momentum": 0.9,            # sgd only
        "schedule": "cosine",       # constant | step | cosine
        "step_epochs": 10,          # step schedule: decay every this many epochs
        "gamma": 0.5,               # step schedule: decay factor
        "min_lr": 1e-6,             # cosine floor
        "grad_clip": None,          # max gradient L2 norm (None: no clipping)
        "val_every": 1,             # validate every n epochs (0: never)
        "checkpoint_every": 1,
        "log_every": 10,            # iterations between CSV / TensorBoard rows
        "progress": True,
        "deterministic": True,
    },
    "eval": {
        "min_region_size": 100,     # ScanNet protocol: 100; small synthetic clouds may want less
    },
}

_FREE_FORM = {("method",), ("model", "backbone_config"), ("model",), ("eval",),
              ("data", "world")}


def merge(base: Mapping[str, Any], update: Mapping[str, Any], path: tuple[str, ...] = ()
          ) -> dict[str, Any]:
    """Deep-merge ``update`` into a copy of ``base``; unknown keys are errors outside free-form
    sections (``method``, ``model``, ``eval``)."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        where = (*path, key)
        if key not in out and path not in _FREE_FORM:
            known = ", ".join(sorted(out))
            raise ValueError(f"unknown config key '{'.'.join(where)}'; known keys here: {known}")
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value, where)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=1e-3"`` -> (["train", "lr"], 0.001); the value is parsed as YAML."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"override {text!r} is not key=value (e.g. train.lr=1e-3)")
    value = yaml.safe_load(raw) if raw.strip() else None
    # YAML 1.1 reads "1e-3" as a string; numbers are what anyone writing it means.
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    return key.strip().split("."), value


def apply_overrides(config: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """``config`` with each ``dotted.key=value`` override applied (checked like a config file)."""
    out = dict(config)
    for text in overrides:
        keys, value = parse_override(text)
        nested: Any = value
        for key in reversed(keys):
            nested = {key: nested}
        out = merge(out, nested)
    return out


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else value
        except ValueError:
            return value
    return value


def load_config(path: str | os.PathLike | None, overrides: Iterable[str] = ()) -> dict[str, Any]:
    """Defaults, then the YAML file at ``path`` (if any), then the overrides.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a YAML mapping, a key is unknown, or no method is named.
    """
    import yaml

    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"config file {p} does not exist")
        loaded = yaml.safe_load(p.read_text())
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, Mapping):
            raise ValueError(f"config file {p} must hold a YAML mapping, got {type(loaded)}")
        config = merge(config, _numbers(loaded))
    config = apply_overrides(config, overrides)
    if not config["method"].get("name"):
        from training.registry import trainable_methods

        raise ValueError(f"the config names no method: set method.name to one of "
                         f"{', '.join(trainable_methods())}")
    return config


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def dump_config(config: Mapping[str, Any]) -> str:
    """The config as YAML text (what runs save next to their checkpoints); tuples become lists."""
    import yaml

    return yaml.safe_dump(_plain(config), sort_keys=False)
