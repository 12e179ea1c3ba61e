"""edge3d's training framework (not installed with the package; run from a source checkout).

``python -m training train --config training/configs/<name>.yaml [key=value ...]``, and
``evaluate`` and ``resume`` (``docs/training.md``). The methods it trains are those of the one
method registry, :mod:`edge3d.methods`, whose descriptions name each method's model
(``edge3d/models/<method>.py``), loss and target builder (``training/losses/<method>.py``) and
validation post-processor (:mod:`training.registry`).
"""
