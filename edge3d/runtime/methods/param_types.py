"""Type checks of parameter dataclasses against their annotations, so that a value of the wrong
type (from a hand-edited manifest, a config, an option) is refused by name where it enters, not
deep inside the method as a ``TypeError`` from NumPy or native code."""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

import numpy as np


def check_types(params: Any) -> None:
    """Raise ValueError naming the first field of dataclass ``params`` whose value does not
    match its annotation (ints, finite floats, bools, None, tuples of those; a list is
    accepted where a tuple is declared)."""
    hints = typing.get_type_hints(type(params))
    for f in fields(params):
        value = getattr(params, f.name)
        if not matches(value, hints[f.name]):
            raise ValueError(f"{type(params).__name__}.{f.name} must be "
                             f"{_describe(hints[f.name])}, got {value!r}")


def field_values(params_cls: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` (a config section, a manifest's ``postprocess``) that name a
    field of dataclass ``params_cls`` and are not None (None: the field's default)."""
    known = {f.name for f in fields(params_cls)}
    return {k: v for k, v in values.items() if k in known and v is not None}


def to_json_dict(params: Any) -> dict[str, Any]:
    """Dataclass ``params`` as a manifest section: its fields, tuples as lists."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(params).items()}


def check_options(options: Mapping[str, Any], params_cls: type, method: str) -> None:
    """TypeError, listing the accepted names, unless every option names a field of the
    method's parameter dataclass."""
    known = {f.name for f in fields(params_cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown option(s) for {method}: {', '.join(unknown)}; it accepts "
                        f"{', '.join(sorted(known))}")


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` (from JSON, YAML or a caller) fits the annotation ``hint``: ints (no
    bools), finite floats (ints too), bools, None, unions, and tuples of those (lists too)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, a) for a in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):
        return False
    if hint is int:
        return isinstance(value, (int, np.integer))
    if hint is float:
        return isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value)
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            return False
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return all(matches(v, args[0]) for v in value)
        return len(value) == len(args) and all(matches(v, a) for v, a in
                                               zip(value, args, strict=True))
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    names = {int: "an integer", float: "a finite number", bool: "true or false",
             type(None): "null"}
    if hint in names:
        return names[hint]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_plural(args[0])}"
        if len(set(args)) == 1:
            return f"a list of {len(args)} {_plural(args[0])}"
        return f"a list of ({', '.join(_describe(a) for a in args)})"
    return getattr(hint, "__name__", str(hint))


def _plural(hint: Any) -> str:
    return {int: "integers", float: "finite numbers", bool: "booleans"}.get(hint, str(hint))
