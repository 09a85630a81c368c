"""Cameras: snapshots from IP cameras, Home Assistant, Frigate or RTSP; a local change gate; vision alerts."""

from skills.camera.skill import CameraSkill

__all__ = ["CameraSkill"]
