"""Probabilistic Embeddings: Gaussian point embeddings grouped greedily from seeds
(``papers/probabilistic-embeddings.md``)."""

from edge3d.methods.description import GraphDescription, MethodDescription

DESCRIPTION = MethodDescription(
    name="prob_embeddings",
    summary="Probabilistic Embeddings: Gaussian embeddings per point, greedy seed grouping",
    runtime="edge3d.runtime.methods.prob_embeddings:ProbEmbeddingsSegmenter",
    params="edge3d.runtime.methods.prob_embeddings:ProbEmbeddingsParams",
    backbone="pointnet2",
    graphs=(GraphDescription("main"),),
    model="edge3d.models.prob_embeddings:build",
    loss="training.losses.prob_embeddings:build",
    targets="training.losses.prob_embeddings:build_targets",
    target_spec="training.losses.prob_embeddings:target_spec",
    validate="edge3d.models.prob_embeddings:postprocess_scene",
    sections="edge3d.models.prob_embeddings:package_sections",
    examples="edge3d.models.prob_embeddings:example_inputs",
)
