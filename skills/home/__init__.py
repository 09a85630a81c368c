"""Home devices: one entity registry over the simulated home, Home Assistant and Sonos."""

from .skill import Home, HomeConfig

__all__ = ["Home", "HomeConfig"]
