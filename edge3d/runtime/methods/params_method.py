"""The shared shell of methods that run from their name alone: no network, no model package,
their options a frozen dataclass of parameters (``"geometric"``, ``"euclidean"``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from edge3d.methods import describe
from edge3d.runtime.memory import check_fits, default_budget
from edge3d.runtime.methods.param_types import check_options


class ParamsMethod:
    """Base of a packageless method: ``create`` checks the options against the fields of the
    parameters dataclass its description names (an unknown name is a ``TypeError`` listing the
    accepted ones), ``describe`` reports them. Subclasses set ``name``, ``class_names`` and
    ``bytes_per_point`` and implement ``segment``."""

    name: ClassVar[str]
    class_names: ClassVar[tuple[str, ...]]
    #: peak bytes per input point (measured; edge3d.runtime.memory)
    bytes_per_point: ClassVar[int]
    #: bytes the method may use (edge3d.Segmenter's max_memory_mb)
    memory_budget = default_budget()

    def __init__(self, params: Any = None) -> None:
        self.params = params if params is not None else self.params_type()()

    @classmethod
    def params_type(cls) -> type:
        """The parameters dataclass, as the method's description names it."""
        return describe(cls.name).part("params")

    @classmethod
    def create(cls, package: Any = None, backend: str = "auto", device: str = "auto",
               **options: Any) -> ParamsMethod:
        """Registry factory. ``backend`` and ``device`` are accepted and unused: no network."""
        check_options(options, cls.params_type(), f"the {cls.name} segmenter")
        return cls(cls.params_type()(**options))

    def describe(self) -> dict[str, Any]:
        return {"method": self.name, **asdict(self.params)}

    def check_memory(self, n_points: int) -> None:
        """CapacityError before anything is allocated when ``n_points`` cannot fit."""
        check_fits(n_points * self.bytes_per_point, self.memory_budget, self.name,
                   f"a cloud of {n_points:,} points")
