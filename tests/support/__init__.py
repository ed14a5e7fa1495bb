"""Helpers shared by tests (one module per topic); tests import these, never another test module."""
