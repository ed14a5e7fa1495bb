"""Glance-compatible interoperable image import: the domain package shared by every Lambda."""
