"""The toy semantic method: per-point classes on toy worlds, for testing the training chain."""

from edge3d.methods.description import MethodDescription

DESCRIPTION = MethodDescription(
    name="toy_semantic",
    summary="training-only: per-point classes and connected components on toy worlds",
    model="edge3d.models.toy_semantic:build",
    loss="training.losses.toy_semantic:build",
    targets="training.losses.toy_semantic:build_targets",
    target_spec="training.losses.toy_semantic:target_spec",
    validate="edge3d.models.toy_semantic:postprocess_scene",
)
