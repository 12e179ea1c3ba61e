"""The Euclidean baseline: plane removal and Euclidean clustering, no network."""

from edge3d.methods.description import MethodDescription

DESCRIPTION = MethodDescription(
    name="euclidean",
    summary="baseline: dominant planes removed, the rest clustered by distance",
    runtime="edge3d.runtime.methods.euclidean:EuclideanSegmenter",
    params="edge3d.runtime.methods.euclidean:EuclideanParams",
)
