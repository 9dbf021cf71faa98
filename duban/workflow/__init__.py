"""duban.workflow."""
