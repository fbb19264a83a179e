"""The main job on embedded defaults: a whole mobilisation against the local SMS simulator."""
