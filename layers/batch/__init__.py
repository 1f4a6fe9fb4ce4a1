"""Batch work over partitions of appeals (district code × month of reported_at) on Dask.

`plan` lists the partitions, `cluster` connects to a scheduler or starts a LocalCluster,
`reassign` re-assigns appeals with the service's rules (one transaction per partition, resumable),
`analytics` runs the hotspot and statistics queries as Dask jobs. See docs/batch.md.
"""
