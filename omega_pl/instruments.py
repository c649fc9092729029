"""Instrument metadata: pip sizes.

A *pip* is the unit in which FX traders quote spreads and moves. omega_pl
derives it from the symbol name with a small rule (see :func:`pip_size`);
every function that reports pips also accepts an explicit pip size, so the
rule is only a default and never a constraint.
"""

from __future__ import annotations

from collections.abc import Mapping

from omega_pl.errors import ParameterError

__all__ = ["pip_size"]

#: Pip size of a 6-letter FX pair whose quote currency is not JPY.
FX_PIP = 0.0001
#: Pip size of a pair quoted in JPY (``USDJPY``, ``EURJPY`` …).
JPY_PIP = 0.01
#: Pip size of gold (``XAUUSD`` …), one ten-cent tick of the price.
XAU_PIP = 0.1
#: Pip size of silver (``XAGUSD`` …).
XAG_PIP = 0.01

#: Characters ignored when reading a symbol (``EUR/USD``, ``EUR_USD``, ``EUR-USD``).
_SEPARATORS = str.maketrans("", "", "/_- ")


def _canonical(symbol: str) -> str:
    """``symbol`` upper-cased, without separators and without a broker suffix after ``.``."""
    return symbol.strip().split(".", 1)[0].translate(_SEPARATORS).upper()


def pip_size(symbol: str, *, overrides: Mapping[str, float] | None = None) -> float:
    """The pip size of ``symbol`` in price units.

    The rule, applied to the symbol upper-cased, with ``/``, ``_``, ``-`` and
    spaces removed and a broker suffix after a dot dropped (``eur/usd``,
    ``EUR_USD`` and ``EURUSD.pro`` all read as ``EURUSD``):

    1. an entry of ``overrides`` (keys compared the same way) wins;
    2. gold, a symbol starting with ``XAU``: ``0.1``;
    3. silver, a symbol starting with ``XAG``: ``0.01``;
    4. a 6-letter FX pair quoted in yen (letters 4-6 are ``JPY``): ``0.01``;
    5. any other 6-letter symbol (an FX pair): ``0.0001``.

    Anything else (index and commodity CFDs such as ``US30`` or ``GER40``) has
    no rule and raises :class:`~omega_pl.errors.ParameterError`; pass the pip
    size explicitly there (``overrides=``, ``summarize(..., pip=...)`` or the
    CLI's ``--pip``). The rule is overridable for the same reason: brokers
    differ (some quote metals or exotic pairs with other pip conventions).

    Parameters
    ----------
    symbol
        The instrument, e.g. ``"EURUSD"``.
    overrides
        Pip sizes by symbol that take precedence over the rule, e.g.
        ``{"XAUUSD": 0.01}``. Values must be positive.

    Returns
    -------
    float
        The pip size, e.g. ``0.0001`` for ``EURUSD`` and ``0.01`` for ``USDJPY``.

    Raises
    ------
    ParameterError
        If no rule applies and ``overrides`` has no entry, or an override is
        not a positive number.

    Examples
    --------
    >>> pip_size("EURUSD")
    0.0001
    >>> pip_size("usd/jpy")
    0.01
    >>> pip_size("XAUUSD", overrides={"xauusd": 0.01})
    0.01
    """
    key = _canonical(symbol)
    if not key:
        raise ParameterError(f"pip_size: symbol must be a non-empty name, got {symbol!r}")
    if overrides:
        for name, value in overrides.items():
            if _canonical(name) == key:
                size = float(value)
                if not size > 0.0:
                    raise ParameterError(
                        f"pip_size: override for {name!r} must be positive, got {value!r}"
                    )
                return size
    if key.startswith("XAU"):
        return XAU_PIP
    if key.startswith("XAG"):
        return XAG_PIP
    if len(key) == 6 and key.isalpha() and key.isascii():
        return JPY_PIP if key[3:] == "JPY" else FX_PIP
    raise ParameterError(
        f"no pip size rule for symbol {symbol!r} (known: 6-letter FX pairs, XAU*, XAG*); "
        "pass the pip size explicitly"
    )
