"""SSEN: sparse voxel UNet embeddings clustered by HDBSCAN (``papers/ssen.md``)."""

from edge3d.methods.description import GraphDescription, MethodDescription

DESCRIPTION = MethodDescription(
    name="ssen",
    summary="SSEN: per-voxel instance embeddings and classes, HDBSCAN clustering",
    runtime="edge3d.runtime.methods.ssen:SSENSegmenter",
    params="edge3d.runtime.methods.ssen:SSENParams",
    backbone="sparse_unet",
    graphs=(GraphDescription("main"),),
    model="edge3d.models.ssen:build",
    loss="training.losses.ssen:build",
    targets="training.losses.ssen:build_targets",
    target_spec="training.losses.ssen:target_spec",
    validate="edge3d.models.ssen:postprocess_scene",
    sections="edge3d.models.ssen:package_sections",
    examples="edge3d.models.ssen:example_inputs",
)
