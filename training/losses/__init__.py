"""One loss module per method: ``build(config)``, ``build_targets(scene, config)`` and
``target_spec(config)`` (see :mod:`training.registry`)."""
