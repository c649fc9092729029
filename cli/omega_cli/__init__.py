"""The ``omega`` command line of omega_pl (a Typer application).

The console script ``omega`` runs :func:`omega_cli.main.main`. Commands live in
their own modules (``omega_cli.load`` …) and are registered on the app in
:mod:`omega_cli.main`; shared helpers (one-line error reporting, atomic
Parquet output) are in :mod:`omega_cli._errors` and :mod:`omega_cli._output`.
"""

from __future__ import annotations

__all__: list[str] = []
