"""The HTTP front door: health, the JSON API, the web chat page and channel webhooks."""
