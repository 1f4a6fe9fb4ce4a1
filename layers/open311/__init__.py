"""Open311 GeoReport v2 server (docs/standards.md)."""
