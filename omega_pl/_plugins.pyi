"""Type stub of the compiled extension (its expressions are loaded by Polars, not imported)."""

__version__: str
