"""Measuring runs: metric records (agent, call, timer) written as JSON lines."""
