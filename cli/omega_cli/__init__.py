"""The ``omega`` command line of omega_pl (a Typer application).

Its own distribution, ``omega-cli`` (``cli/pyproject.toml``), depending on
``omega-pl`` of the same version; it uses only omega_pl's public API.
The console script ``omega`` runs :func:`omega_cli.main.main`. Commands live in
their own modules (``omega_cli.load`` …) and are registered on the app in
:mod:`omega_cli.main`; shared parts are :mod:`omega_cli.inputs` (resolving a
data root, symbol directory or file), :mod:`omega_cli.options` (option
declarations), :mod:`omega_cli.errors` (one-line error reporting) and
:mod:`omega_cli.output` (atomic Parquet output, tables).
"""

from __future__ import annotations

__all__: list[str] = []
