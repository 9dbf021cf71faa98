"""duban.notifications."""
