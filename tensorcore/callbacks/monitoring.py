"""Shared logic for callbacks that watch one logged quantity (min or max is better)."""

from __future__ import annotations

import numbers
import warnings


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


def check_monitor(owner: str, monitor) -> str:
    """Validate a monitor argument (the name of a logged quantity)."""
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"{owner}: monitor must be the name of a logged quantity (a non-empty "
                        f"str). Received: monitor={monitor!r}")
    return monitor


def check_non_negative_int(owner: str, name: str, value) -> int:
    """Validate a count such as patience or cooldown."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative int. "
                         f"Received: {name}={value!r}")
    return int(value)


def is_improvement(value: float, reference: float, larger_is_better: bool,
                   min_delta: float) -> bool:
    """True when `value` beats `reference` by more than min_delta in the preferred direction."""
    if larger_is_better:
        return value - min_delta > reference
    return value + min_delta < reference


def warn_missing_monitor(owner: str, monitor: str, logs: dict) -> None:
    """Warn (pointing at the caller's caller) that the monitored quantity is not logged."""
    warnings.warn(f"{owner} is monitoring '{monitor}', which is not available. "
                  f"Available: {', '.join(logs)}", stacklevel=3)
