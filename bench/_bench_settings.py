"""Settings for bench/bench_dask_reassign.py: production settings with the grid index's disk
cache in a folder of its own (the shared folder keeps only the newest few files)."""

from geogrid.settings import *  # noqa: F403

GEOGRID = {**GEOGRID, "ASSIGN_INDEX_CACHE_DIR": VAR_DIR / "cache" / "assign-bench"}  # noqa: F405
