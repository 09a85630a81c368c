"""Channels: where messages come from and where replies go. Each implements ``claw.channels.base.Channel``."""
