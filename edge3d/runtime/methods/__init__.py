"""Each method's runtime (no torch): its input building, graphs and post-processing.

One module per method, holding the class that implements
:class:`edge3d.methods.protocol.Method`, plus the shared shells of packageless methods
(:mod:`~edge3d.runtime.methods.params_method`) and package methods
(:mod:`~edge3d.runtime.methods.package_method`). Which class runs which method is said by the
method registry, :mod:`edge3d.methods`; nothing here lists methods.
"""
