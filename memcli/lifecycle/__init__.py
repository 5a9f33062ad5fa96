"""Decay and consolidation: pure functions that take `now`."""
