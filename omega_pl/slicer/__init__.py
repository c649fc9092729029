"""Multi-symbol timeline and per-symbol slicing (SPEC §6).

:class:`MultiSymbolSlicer` puts several symbols onto one timeline and walks it;
:class:`SymbolSlicer` gives positional access to one aligned symbol frame.

One module per concern:

* :mod:`~omega_pl.slicer.records`: the :class:`Candle` record and a batch's
  candles as one C array;
* :mod:`~omega_pl.slicer.timeline`: inputs checked, sorted and de-duplicated,
  the intersection or union of their timestamps, each symbol's rows placed on it;
* :mod:`~omega_pl.slicer.stream`: the streaming merge of lazy inputs;
* :mod:`~omega_pl.slicer.multi`: :class:`MultiSymbolSlicer` (and the wide
  frame's column names);
* :mod:`~omega_pl.slicer.batch`: its batches (:class:`MultiSymbolBatch`) and
  steps (:class:`MultiSymbolSlice`);
* :mod:`~omega_pl.slicer.single`: :class:`SymbolSlicer`.
"""

from __future__ import annotations

from omega_pl.errors import TimelineError
from omega_pl.slicer.batch import MultiSymbolBatch, MultiSymbolSlice
from omega_pl.slicer.multi import MultiSymbolSlicer
from omega_pl.slicer.records import Candle
from omega_pl.slicer.single import SymbolSlicer
from omega_pl.slicer.timeline import How

__all__ = [
    "Candle",
    "How",
    "MultiSymbolBatch",
    "MultiSymbolSlice",
    "MultiSymbolSlicer",
    "SymbolSlicer",
    "TimelineError",
]
