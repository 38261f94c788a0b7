"""Broken flavors for the registry tests."""
