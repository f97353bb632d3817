"""Everything that moves data: readers, validation, the DuckDB store, the generator, the CLI."""
