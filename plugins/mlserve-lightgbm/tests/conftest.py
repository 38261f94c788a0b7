"""Fixtures: mlserve.testing.fixtures (each test in its own directory, and seed_data)."""

pytest_plugins = ["mlserve.testing.fixtures"]
