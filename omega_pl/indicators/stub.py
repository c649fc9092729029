"""``python -m omega_pl.indicators.stub [--check]``: rewrite (or compare) ``expressions.pyi``.

The stub gives mypy and IDEs the signatures that
:mod:`omega_pl.indicators.expressions` generates at run time from the catalog.
Run this after changing :mod:`omega_pl.indicators.catalog`; the test suite
fails while the stub and the catalog differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omega_pl.indicators.catalog import CATALOG
from omega_pl.indicators.expressions import OmegaExpr
from omega_pl.indicators.generate import stub_text

__all__ = ["STUB", "expected_stub"]

#: The stub file next to the generated module.
STUB = Path(__file__).with_name("expressions.pyi")


def expected_stub() -> str:
    """The stub's text for the current catalog."""
    return stub_text(CATALOG, OmegaExpr.__name__)


def main(argv: list[str]) -> int:
    text = expected_stub()
    if "--check" in argv:
        same = STUB.exists() and STUB.read_text() == text
        print("stub up to date" if same else f"{STUB} differs from the catalog: rewrite it")
        return 0 if same else 1
    STUB.write_text(text)
    print(f"wrote {STUB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
