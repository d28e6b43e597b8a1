"""Helpers shared by the tests and the benchmarks: tiny models with informative weights,
checkpoints, images, exp files, and slow obvious reference implementations to compare against.

Not used by the library itself; importable from an installed package, so a benchmark script
needs no ``sys.path`` changes.
"""
