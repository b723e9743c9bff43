"""Whole Keras models: the shared schema, loading user files safely, and running them in a v1 Session."""
