"""The original engine's ``Candle`` dataclass fields, lent to the Rust ``Candle``.

``omega_pl.engine.Candle`` is a compiled class (made by the thousand per
second, on first access); giving it the fields of the dataclass it replaces
makes ``dataclasses.fields``, ``asdict`` and ``replace`` work on it as they
did. Standard library only: the extension imports this while ``omega_pl``
itself is still importing.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

__all__ = ["FIELDS", "PARAMS"]


@dataclasses.dataclass
class _Candle:
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    candle_type: str = "bid"


FIELDS: dict[str, Any] = _Candle.__dataclass_fields__
PARAMS: Any = _Candle.__dataclass_params__  # type: ignore[attr-defined]
