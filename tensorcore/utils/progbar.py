"""Progbar: the Keras-style live progress line printed by fit() and evaluate()."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def _supports(stream: TextIO, text: str) -> bool:
    """True when the stream's encoding can print `text`."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def format_duration(seconds: float) -> str:
    """Compact duration: 45s, 2:05, 1:02:05."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def format_step_time(seconds: float) -> str:
    """Time per step in s, ms or us, as Keras prints it."""
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_values(values: dict[str, float]) -> str:
    """' - loss: 0.1234 - accuracy: 0.9876' (4 decimals, or scientific for tiny values)."""
    parts = []
    for name, value in values.items():
        value = float(value)
        shown = f"{value:.4e}" if value != 0 and abs(value) < 1e-3 else f"{value:.4f}"
        parts.append(f" - {name}: {shown}")
    return "".join(parts)


class Progbar:
    """Live progress bar for `target` steps.

    verbose=1: a bar rewritten in place with ``\\r`` (when the stream is a terminal; otherwise
    only the final line is printed); verbose=2: only the final line; verbose=0: nothing.
    """

    def __init__(self, target: int | None, verbose: int = 1, width: int = 20,
                 stream: TextIO | None = None, interval: float = 0.05):
        self.target = None if target is None else int(target)  # None: not known in advance
        self.verbose = verbose
        self.width = width
        self.stream = stream if stream is not None else sys.stdout
        self.interval = interval
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.last_length = 0
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty()) or "ipykernel" in sys.modules \
            or os.environ.get("TENSORCORE_PROGRESS") == "1"
        self.fill, self.empty = ("━", "━") if _supports(self.stream, "━") else ("=", ".")

    def _bar(self, current: int) -> str:
        if self.target is None:
            return f"{current}/Unknown"
        done = self.width if self.target <= 0 else int(self.width * current / self.target)
        digits = len(str(self.target))
        if self.fill == "━":
            # Finished part in the terminal's default color, the rest dimmed when dynamic.
            rest = self.empty * (self.width - done)
            if rest and self.dynamic:
                rest = f"\x1b[2m{rest}\x1b[0m"
            bar = self.fill * done + rest
        else:
            bar = "[" + self.fill * done + self.empty * (self.width - done) + "]"
        return f"{current:>{digits}}/{self.target} {bar}"

    def update(self, current: int, values: dict[str, float] | None = None,
               finalize: bool | None = None) -> None:
        """Show progress after `current` steps with the running values."""
        if self.verbose == 0:
            return
        values = values or {}
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.perf_counter()
        elapsed = now - self.start
        if finalize:
            per_step = elapsed / max(current, 1)
            if self.verbose == 1:
                line = (f"{self._bar(current)} {format_duration(elapsed)} "
                        f"{format_step_time(per_step)}{format_values(values)}")
            else:
                line = (f"{current}/{self.target} - {format_duration(elapsed)} - "
                        f"{format_step_time(per_step)}{format_values(values)}")
            self._write(line, final=True)
            return
        if self.verbose != 1 or not self.dynamic or now - self.last_draw < self.interval:
            return
        self.last_draw = now
        if self.target is None:
            line = f"{self._bar(current)} {format_duration(elapsed)}{format_values(values)}"
        else:
            eta = elapsed / max(current, 1) * (self.target - current)
            line = f"{self._bar(current)} {format_duration(eta)}{format_values(values)}"
        self._write(line, final=False)

    def _write(self, line: str, final: bool) -> None:
        if self.dynamic:
            padding = " " * max(0, self.last_length - len(line))
            self.stream.write("\r" + line + padding)
            self.last_length = len(line)
        else:
            self.stream.write(line)
        if final:
            self.stream.write("\n")
        self.stream.flush()
