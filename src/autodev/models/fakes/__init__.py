"""Models that need no provider: scripted replies, recording and latency-simulating wrappers.

They answer through the same protocol as the real adapters, so tests, `autodev demo` and the
benchmarks run the real pipeline with them.
"""
