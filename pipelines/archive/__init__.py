"""Beyond one machine: a partitioned GeoParquet archive of a database (:mod:`.export`), read back by DuckDB
(:mod:`pipelines.store.archive`) and processed per partition on a Dask cluster (:mod:`.batch`)."""
