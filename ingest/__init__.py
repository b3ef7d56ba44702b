"""Ingest: the documented source formats, validation, the loader and the synthetic generator."""
