"""Measuring runs: metric records (agent, call, timer) written as JSON lines, and the timer that makes them."""

from autodev.profiler.timer import PerformanceTimer

__all__ = ["PerformanceTimer"]
