"""Shared logic for callbacks that watch one logged quantity (min or max is better)."""

from __future__ import annotations


def monitor_prefers_larger(monitor: str, mode: str, model) -> bool:
    """True when larger values of `monitor` are better, following mode/auto rules as Keras."""
    if mode == "max":
        return True
    if mode == "min":
        return False
    metric_name = monitor.removeprefix("val_")
    if metric_name == "loss":
        return False
    for metric in getattr(model, "metrics", None) or []:
        if getattr(metric, "name", None) == metric_name:
            return getattr(metric, "direction", "down") == "up"
    return "acc" in metric_name


def check_mode(owner: str, mode: str) -> str:
    """Validate a mode argument."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    return mode
