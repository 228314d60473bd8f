"""Benchmarks: scripts that print numbers (see docs/performance.md). Never run by pytest."""
