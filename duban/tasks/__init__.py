"""duban.tasks."""
