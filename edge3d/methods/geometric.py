"""The geometric method: structure removal, superpoints and support, no network."""

from edge3d.methods.description import MethodDescription

DESCRIPTION = MethodDescription(
    name="geometric",
    summary="zero-shot: floor, walls and ceiling out, superpoints merged where support ends",
    runtime="edge3d.runtime.methods.geometric:GeometricSegmenter",
    params="edge3d.runtime.methods.geometric:GeometricParams",
)
