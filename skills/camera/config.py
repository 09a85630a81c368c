"""``[camera]`` and ``[camera.NAME]``: global camera options and one table per camera source.

Camera tables sit beside the global keys (``[camera.driveway]``), so the
validator moves every sub-table into ``cameras`` before pydantic sees it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from claw.skill import SkillConfig


class CameraSource(BaseModel):
    """One camera: where its snapshots come from and how the change gate judges them."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["http", "homeassistant", "frigate", "rtsp"] = "http"
    #: http: the snapshot URL; frigate: the Frigate base URL; rtsp: the stream URL; homeassistant: optional HA URL.
    url: str | None = None
    username: str | None = None
    password: str | None = None
    auth: Literal["basic", "digest"] = "basic"
    entity: str | None = None  # homeassistant: camera.front_door
    token: str | None = None  # homeassistant: a long-lived token when not using the home provider's
    frigate_camera: str | None = None  # frigate: the camera name in Frigate (default: this table's name)
    label: str | None = None  # how messages name the camera (default: the table name)
    area: str | None = None  # what it looks at ("driveway", "garden"), told to the model with its name
    timeout: float = Field(10.0, gt=0)
    #: Change gate: a pixel counts as changed when its blurred grey level moves more than this (0-255)...
    pixel_threshold: int = Field(25, ge=1, le=255)
    #: ... and the frame counts as changed when more than this share of the (zone) pixels did.
    min_changed: float = Field(0.01, gt=0, le=1)
    #: Optional zone: polygons of [x, y] points in 0..1 image coordinates; only changes inside count.
    zone: list[list[tuple[float, float]]] = []

    @model_validator(mode="after")
    def _needs(self) -> CameraSource:
        if self.type in ("http", "frigate", "rtsp") and not self.url:
            raise ValueError(f"a {self.type} camera needs url")
        if self.type == "homeassistant" and not (self.entity or "").startswith("camera."):
            raise ValueError("a homeassistant camera needs entity = \"camera.<name>\"")
        for poly in self.zone:
            if len(poly) < 3:
                raise ValueError("each zone polygon needs at least three [x, y] points")
        return self


class CameraConfig(SkillConfig):
    """``[camera]``: options for all cameras, then ``[camera.NAME]`` tables."""

    keep_days: float = Field(7.0, gt=0)  # snapshots on disk are deleted after this
    max_bytes: int = Field(8_000_000, ge=10_000)  # a larger response is not a snapshot
    media_ttl_hours: float = Field(48.0, gt=0)  # how long a link in an alert keeps working
    public_url: str | None = None  # default: [whatsapp] public_url
    default_interval: float = Field(5.0, gt=0)  # seconds between polls of a new watcher
    default_cooldown_minutes: float = Field(10.0, ge=0)
    default_confidence: float = Field(0.6, ge=0, le=1)
    min_interval: float = Field(0.1, gt=0)  # the shortest poll interval a watcher may ask for
    #: Vision checks one watcher may make per hour (a busy street must not become a big bill); 0 = no cap.
    max_checks_per_hour: int = Field(120, ge=0)
    #: Frigate's MQTT broker; when set, Frigate watchers react to its events instead of polling /api/events.
    mqtt_host: str | None = None
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_topic_prefix: str = "frigate"
    cameras: dict[str, CameraSource] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_cameras(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            cams = dict(data.pop("cameras", {}) or {})
            for key in [k for k, v in data.items() if isinstance(v, dict)]:
                cams[key] = data.pop(key)
            data["cameras"] = cams
        return data
