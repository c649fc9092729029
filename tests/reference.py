"""Executable spec: plain-Python/NumPy implementations of SPEC primitives.

Written from /work/shared/SPEC-indicators.md, independently of the Rust
kernels, so parity tests compare two readings of the same text. Missing
outputs are NaN here; omega_pl emits null for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def alpha_from_span(span: float) -> float:
    """SPEC P1: com = (s - 1) / 2, a = 1 / (1 + com)."""
    com = (span - 1.0) / 2.0
    return 1.0 / (1.0 + com)


def ewm(values: Sequence[float | None] | FloatArray, a: float) -> FloatArray:
    """SPEC P1 ``EWM(a)`` row by row."""
    x = [math.nan if v is None else float(v) for v in values]
    out = np.full(len(x), math.nan)
    keep = 1.0 - a
    m = math.nan
    w = 1.0
    started = False
    for t, v in enumerate(x):
        present = math.isfinite(v)
        if not started:
            if present:
                m, w, started = v, 1.0, True
                out[t] = m
            continue
        w = w * keep
        if present:
            if v != m:
                m = (w * m + a * v) / (w + a)
            w = 1.0
        out[t] = m
    return out


def ema(values: Sequence[float | None] | FloatArray, period: int) -> FloatArray:
    """SPEC 2.1."""
    return ewm(values, alpha_from_span(period))
