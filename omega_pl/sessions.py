"""Trading-session masks: the Sydney market-hours rule and the daily cleanup.

Both are plain Polars expressions that return a Boolean keep-mask, so they can
be used in any plan: ``frame.filter(omega_pl.market_hours_mask("time"))``.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from omega_pl._plugin import plugin_expr, to_expr

__all__ = ["SESSION_ZONE", "daily_clean_mask", "market_hours_mask"]

#: The zone whose local week defines market hours (SPEC §4.2).
SESSION_ZONE = "Australia/Sydney"

#: The offset table covers these years; outside it the nearest offset holds.
_TABLE_YEARS = (1900, 2200)


@functools.cache
def _offset_table(zone: str = SESSION_ZONE) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The zone's UTC offset history from the IANA database, in microseconds.

    Returns ``(transitions, offsets)``: ``offsets[0]`` applies before
    ``transitions[0]`` and ``offsets[k + 1]`` from ``transitions[k]`` on. Built
    by sampling weekly and bisecting each change to the second (about 20 ms,
    once per process); it follows whatever tzdata Python sees, and never the
    machine's local time zone.
    """
    tz = ZoneInfo(zone)

    def offset(t: int) -> int:
        delta = datetime.fromtimestamp(t, tz).utcoffset()
        assert delta is not None  # a ZoneInfo always has an offset
        return int(delta.total_seconds())

    t = int(datetime(_TABLE_YEARS[0], 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(_TABLE_YEARS[1], 1, 1, tzinfo=UTC).timestamp())
    step = int(timedelta(days=7).total_seconds())
    current = offset(t)
    transitions: list[int] = []
    offsets = [current * 1_000_000]
    while t < end:
        nxt = t + step
        new = offset(nxt)
        if new != current:
            lo, hi = t, nxt  # offset(lo) == current, offset(hi) == new
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == current:
                    lo = mid
                else:
                    hi = mid
            transitions.append(hi * 1_000_000)
            offsets.append(new * 1_000_000)
            current = new
        t = nxt
    return tuple(transitions), tuple(offsets)


def market_hours_mask(time: str | pl.Expr = "time") -> pl.Expr:
    """Keep-mask of the FX market hours: open Monday 07:00 to Saturday 07:00 Sydney time.

    The bar's open time is converted to Australia/Sydney local time (DST-aware,
    IANA rules) and judged by its local weekday and hour (SPEC §4.2): Monday
    from 07:00, Tuesday to Friday always, Saturday before 07:00, never on
    Sunday. In UTC the week opens Sunday 20:00 (AEDT) or 21:00 (AEST) and closes
    Friday at the same hour. Only the open time is judged, so a bar that
    straddles the boundary is kept or dropped whole.

    Parameters
    ----------
    time
        A Datetime column name or expression, in any time unit; naive values are
        taken as UTC, aware ones are judged by their UTC instant.

    Returns
    -------
    pl.Expr
        Boolean, null where ``time`` is null.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> import omega_pl
    >>> df = pl.DataFrame({"time": [datetime(2025, 3, 14, 19), datetime(2025, 3, 14, 20),
    ...     datetime(2025, 3, 16, 19), datetime(2025, 3, 16, 20)]})  # AEDT: UTC+11
    >>> df.select(omega_pl.market_hours_mask("time")).to_series().to_list()
    [True, False, False, True]
    """
    transitions, offsets = _offset_table()
    return plugin_expr(
        "market_hours_mask",
        [to_expr(time).dt.epoch("us")],
        {"transitions_us": list(transitions), "offsets_us": list(offsets)},
        elementwise=True,
    ).alias("market_hours")


def daily_clean_mask(
    time: str | pl.Expr = "time",
    *,
    prefix: str = "",
) -> pl.Expr:
    """Keep-mask of the daily cleanup (SPEC §4.3) for ``D*`` timeframes.

    Drops bars whose **UTC** weekday is Saturday or Sunday, and flat
    zero-volume bars (``volume == 0`` and ``open == high == low == close``,
    exact equality). A flat bar with volume, or a zero-volume bar that moved,
    is kept.

    Parameters
    ----------
    time
        The Datetime column (naive values are UTC).
    prefix
        Column-name prefix of the OHLCV columns, e.g. ``"bid_"``.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> import omega_pl
    >>> df = pl.DataFrame({
    ...     "time": [datetime(2025, 3, 14), datetime(2025, 3, 15), datetime(2025, 3, 17)],
    ...     "open": [1.0, 1.0, 1.1], "high": [1.2, 1.2, 1.1], "low": [0.9, 0.9, 1.1],
    ...     "close": [1.1, 1.1, 1.1], "volume": [10.0, 10.0, 0.0],
    ... })  # a Friday, a Saturday, and a flat zero-volume Monday
    >>> df.select(omega_pl.daily_clean_mask("time")).to_series().to_list()
    [True, False, False]
    """
    t = to_expr(time)
    # Weekday from the UTC instant (1970-01-01 was a Thursday = 3, Monday = 0);
    # independent of the column's time zone and unit.
    weekday = (t.dt.epoch("s").floordiv(86_400) + 3).mod(7)
    o, h, lo, c, v = (pl.col(f"{prefix}{n}") for n in ("open", "high", "low", "close", "volume"))
    flat_empty = (v == 0) & (o == h) & (h == lo) & (lo == c)
    return ((weekday < 5) & ~flat_empty).alias("daily_clean")
