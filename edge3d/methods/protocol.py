"""The contract every runtime method class fulfils, and its check.

:class:`edge3d.Segmenter` talks to a method only through these members, so a new method that
passes :func:`check_method_class` runs in the Segmenter, the Stream and the demo unchanged.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    import numpy as np

    from edge3d.package import ModelPackage
    from edge3d.types import SegmentationResult


class Method(Protocol):
    """A segmentation method as the runtime runs it.

    Attributes:
        name: the registered name.
        class_names: the classes its results name, by class id.
        memory_budget: bytes it may use; :class:`edge3d.Segmenter` sets it from
            ``max_memory_mb``, and the method raises :class:`edge3d.CapacityError` before
            allocating beyond it.
    """

    name: ClassVar[str]
    class_names: tuple[str, ...]
    memory_budget: int

    @classmethod
    def create(cls, package: ModelPackage | None, backend: str = "auto", device: str = "auto",
               **options: Any) -> Method:
        """The method from a verified package (None for a packageless method), its graphs
        opened on ``backend``/``device``; ``options`` override its parameters (an unknown
        name is a TypeError listing the known ones)."""
        ...

    def segment(self, points: np.ndarray, colors: np.ndarray | None = None
                ) -> SegmentationResult:
        """Instances of float32 [N, 3] points (metres, z up, a local frame) with float32
        [N, 3] colours in [0, 1] or None; methods whose description sets ``superpoints`` also
        take ``superpoints=`` (integer [N])."""
        ...

    def describe(self) -> dict[str, Any]:
        """What it is and how it is configured (JSON-friendly)."""
        ...


def check_method_class(cls: Any, name: str, superpoints: bool) -> None:
    """Raise TypeError naming what ``cls`` lacks of :class:`Method` (or a ``name`` that is not
    the one it is registered under), so a broken registration fails where it is loaded."""
    problems = []
    for member in ("create", "segment", "describe"):
        if not callable(getattr(cls, member, None)):
            problems.append(f"no method {member}()")
    for member in ("name", "class_names", "memory_budget"):
        if not hasattr(cls, member):
            problems.append(f"no attribute {member}")
    if getattr(cls, "name", name) != name:
        problems.append(f"its name is {cls.name!r}")
    segment = getattr(cls, "segment", None)
    if callable(segment) and superpoints and \
            "superpoints" not in inspect.signature(segment).parameters:
        problems.append("its description says it uses superpoints, but segment() takes none")
    if problems:
        raise TypeError(f"{cls.__module__}.{cls.__qualname__} is registered as method {name!r} "
                        f"but does not implement edge3d.methods.protocol.Method: "
                        f"{'; '.join(problems)}")
