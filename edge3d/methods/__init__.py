"""The method registry: one line per method, naming the module of its description.

Each method's :class:`~edge3d.methods.description.MethodDescription` lives in
``edge3d/methods/<name>.py`` as ``DESCRIPTION``; everything else of the method (network, loss,
runtime, configs, tests) is in its own files, named by that description. Training,
``edge3d-export``, :class:`edge3d.Segmenter`, the tests and the docs read this registry and
nothing else. Importing it imports no torch, no backend and no native code.

Adding a method: write its files, its description module, and one line in :data:`REGISTRY`
(``docs/models.md``, "Adding a method").
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from edge3d.methods.description import GraphDescription, MethodDescription
from edge3d.methods.protocol import Method, check_method_class

#: method name -> module holding its DESCRIPTION
REGISTRY: dict[str, str] = {
    "geometric": "edge3d.methods.geometric",
    "euclidean": "edge3d.methods.euclidean",
    "ssen": "edge3d.methods.ssen",
    "spherical_mask": "edge3d.methods.spherical_mask",
    "prob_embeddings": "edge3d.methods.prob_embeddings",
    "toy_semantic": "edge3d.methods.toy_semantic",
}

#: what edge3d.Segmenter(), edge3d.Stream and `edge3d demo` run when no model is named: the
#: zero-shot method, until a learned one beats it on real scans (docs/geometric.md)
DEFAULT_MODEL = "geometric"


class UnknownMethodError(LookupError):
    """A method name that is not registered."""


@cache
def describe(name: str) -> MethodDescription:
    """The description of the registered method ``name``.

    Raises:
        UnknownMethodError: not registered; the message lists the registered names.
    """
    if name not in REGISTRY:
        raise UnknownMethodError(f"unknown method {name!r}; registered: "
                                 f"{', '.join(sorted(REGISTRY))}")
    description = importlib.import_module(REGISTRY[name]).DESCRIPTION
    if description.name != name:
        raise TypeError(f"{REGISTRY[name]} describes {description.name!r}, registered as "
                        f"{name!r}")
    return description


def descriptions() -> list[MethodDescription]:
    """Every registered method's description, in registry order."""
    return [describe(name) for name in REGISTRY]


@cache
def runtime_class(name: str) -> Any:
    """The class that runs method ``name``, checked against :class:`Method`.

    Raises:
        UnknownMethodError: not registered, or registered for training only.
    """
    d = describe(name)
    if d.runtime is None:
        raise UnknownMethodError(f"method {name!r} is for training only; the runtime runs "
                                 f"{', '.join(runtime_methods())}")
    cls = d.part("runtime")
    check_method_class(cls, name, d.superpoints)
    return cls


def runtime_methods() -> list[str]:
    """Methods the runtime can run."""
    return [d.name for d in descriptions() if d.runtime is not None]


def packageless_methods() -> list[str]:
    """Methods that run from their name alone (no model package)."""
    return [d.name for d in descriptions() if d.runtime is not None and not d.needs_package]


__all__ = ["DEFAULT_MODEL", "REGISTRY", "GraphDescription", "Method", "MethodDescription",
           "UnknownMethodError", "describe", "descriptions", "packageless_methods",
           "runtime_class", "runtime_methods"]
