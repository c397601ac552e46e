"""Seeding data in bulk: the scale authority for benchmarks."""
