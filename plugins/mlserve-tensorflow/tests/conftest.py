"""Fixtures: mlserve.testing.fixtures (each test in its own directory, and seed_data)."""

import os

# quiet TensorFlow's C++ start-up log, and make Keras use TensorFlow (the server inherits both)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

pytest_plugins = ["mlserve.testing.fixtures"]
