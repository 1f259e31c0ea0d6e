"""Upload profiles for the traceability platform (data, not code; see docs/platform.md)."""
