"""Bundled demo data (``geodata/<park_id>/``), its generator script and its provenance README."""
