"""OGC API – Features server (docs/standards.md)."""
