"""edge3d's C++ core: index building, TSDF fusion, clustering, NMS, rendering.

Each concept is one Python module here (``index``, ``fusion``, ...) wrapping one compiled
extension built from ``src/<concept>/``. The wrappers validate inputs and document shapes,
dtypes and padding; their public names are re-exported from this package. No torch.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__: list[str] = []


def _export_concepts() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(module, "__all__", ()):
            globals()[name] = getattr(module, name)
            __all__.append(name)


_export_concepts()
