"""The readable table of `autodev bench pipeline`: real seconds at the time scale, and the unscaled ones.

Apart from the benchmark because the JSON result is the record and this is only one view of it.
"""

from __future__ import annotations

from typing import Any


def _f(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def render(result: dict[str, Any]) -> list[str]:
    """The readable table: real seconds at the time scale, with the unscaled equivalent."""
    scale = result["time_scale"]
    speed = result["speed"]
    lines = [
        f"autodev bench pipeline: demo project, time scale {scale:g} (seconds below are real; / {scale:g} = unscaled)",
        "",
        "Speed (feature request, full pipeline)",
        f"  {'run':<12} {'wall s':>8} {'bound s':>8} {'efficiency':>10} {'overhead/agent s':>17} "
        f"{'unscaled wall s':>16}",
    ]
    for label in ("sequential", "parallel"):
        run = speed[label]
        lines.append(
            f"  {label:<12} {run['wall_s']:>8.2f} {run['bound_s']:>8.2f} {_f(run['efficiency']):>10} "
            f"{_f(run['overhead_per_agent_s'], '.3f'):>17} {run['wall_s'] / scale:>16.0f}"
        )
    par = speed["parallel"]
    lines += [
        f"  critical path: {' -> '.join(par['critical_path'])} + test gate and analysers",
        "  efficiency = bound / wall (1.00: no time lost beyond what nothing can overlap)",
        f"  speedup {_f(speed['speedup'])}x; research phase {_f(speed['research_speedup'])}x, "
        f"validation phase {_f(speed['validation_speedup'])}x (sequential span / parallel span)",
        "",
        "Fast paths (same latency per agent; savings come from skipped agents and gate)",
        "  docs plan: a feature request narrowed by its plan (only README.md changes)",
        f"  {'request':<9} {'class':<8} {'agents':>6} {'wall s':>8} {'x feature':>9} {'cost $':>8} {'x feature':>9}",
        f"  {'feature':<9} {par['request_class']:<8} {par['agents_run']:>6} {par['wall_s']:>8.2f} {1.0:>9.2f} "
        f"{_f(par['cost_usd'], '.4f'):>8} {1.0:>9.2f}",
    ]
    for label, run in result["fast_paths"].items():
        lines.append(
            f"  {label:<9} {run['request_class']:<8} {run['agents_run']:>6} {run['wall_s']:>8.2f} "
            f"{_f(run['time_ratio_to_feature']):>9} {_f(run['cost_usd'], '.4f'):>8} "
            f"{_f(run['cost_ratio_to_feature']):>9}"
        )
    if "cost" in result:
        cost = result["cost"]
        usd, ratio = cost["usd"], cost["ratio_to_all_deep"]
        lines += ["", f"Cost (demo pipeline tokens, prices read {cost['prices_read_on']}; bench cost)"]
        for key in ("all_deep", "tiered", "tiered_cached"):
            lines.append(f"  {key:<14} ${usd[key]:.4f}   {ratio[key]:.2f} x all-deep")
    if "scale" in result:
        sc = result["scale"]
        lines += [
            "",
            f"Scale ({sc['features']} feature pipelines at once, one limiter: {sc['requests_per_minute']} req/min, "
            f"{sc['tokens_per_minute']:,} tokens/min simulated)",
            f"  wall {sc['wall_s']:.2f} s, limit-bound wall {sc['limit_bound_wall_s']:.2f} s, "
            f"throughput {_f(sc['throughput_ratio'])} of the limit-bound; 429s {sc['errors_429']}; "
            f"all done: {sc['all_done']}",
            f"  peak memory {sc['peak_memory_mb_per_pipeline']:.1f} MB per pipeline ({sc['memory_method']})",
        ]
    return lines
