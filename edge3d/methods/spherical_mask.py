"""Spherical Mask: radial instance detection and sector masks (``papers/spherical-mask.md``)."""

from edge3d.methods.description import GraphDescription, MethodDescription

DESCRIPTION = MethodDescription(
    name="spherical_mask",
    summary="Spherical Mask: queries with rays per sector, masks by radial point migration",
    runtime="edge3d.runtime.methods.spherical_mask:SphericalMaskSegmenter",
    params="edge3d.runtime.methods.spherical_mask:SphericalMaskParams",
    backbone="sparse_unet",
    # Native sampling runs between the graphs; the SectorMask body needs opset >= 18.
    graphs=(GraphDescription("points", stage="points", opset=20),
            GraphDescription("queries", stage="queries", opset=20, custom_ops=("SectorMask",))),
    superpoints=True,
    model="edge3d.models.spherical_mask:build",
    loss="training.losses.spherical_mask:build",
    targets="training.losses.spherical_mask:build_targets",
    target_spec="training.losses.spherical_mask:target_spec",
    validate="edge3d.models.spherical_mask:postprocess_scene",
    sections="edge3d.models.spherical_mask:package_sections",
    examples="edge3d.models.spherical_mask:example_inputs",
)
