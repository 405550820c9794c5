"""Retention model: intent-to-leave model, survival, expected leavers, peer benchmarks."""
