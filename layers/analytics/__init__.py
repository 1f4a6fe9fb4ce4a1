"""Spatial analytics on appeals: vector tiles, heat bins, per-grid rates, hotspots (issue 8)."""
