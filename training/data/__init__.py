"""Training data: scene sources, augmentation, per-sample index building and batching."""
