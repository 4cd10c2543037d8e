"""Block Kit renderers: pure functions from data to Slack message and view payloads, and their validators."""
