"""edge3d's training framework (not installed with the package; run from a source checkout).

``python -m training train --config training/configs/<name>.yaml [key=value ...]``, and
``evaluate`` and ``resume`` (``docs/training.md``). A method is registered in
:mod:`training.registry` by one line naming its model (``edge3d/models/<method>.py``), loss and
target builder (``training/losses/<method>.py``) and post-processor.
"""
