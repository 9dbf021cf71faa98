"""duban.core."""
