"""Benchmarks: performance claims measured side by side in one run, printed as ratios."""
