"""duban.api."""
