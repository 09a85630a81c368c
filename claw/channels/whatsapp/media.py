"""Downloading media a WhatsApp message carries, for the model's image input.

Twilio media URLs need the account credentials (HTTP basic auth) and usually
redirect to a storage host; httpx drops the credentials on a cross-host
redirect. Downloads are size-capped and streamed so a huge file never sits in
memory.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import httpx

#: What the LLM providers accept as image input.
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


@dataclass
class Media:
    url: str
    content_type: str

    @property
    def is_image(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() in IMAGE_TYPES


class MediaError(Exception):
    pass


class MediaFetcher:
    def __init__(self, api_base: str, auth: tuple[str, str] | None, max_bytes: int, timeout: float = 10.0):
        self.api_base = api_base.rstrip("/")
        self.auth = auth
        self.max_bytes = max_bytes
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=True)

    def _resolve(self, url: str) -> tuple[str, tuple[str, str] | None]:
        """Twilio's URL on our API base, with credentials only for Twilio's own hosts."""
        from claw.channels.whatsapp.twilio import TWILIO_API

        if url.startswith(TWILIO_API) and self.api_base != TWILIO_API:
            url = self.api_base + url[len(TWILIO_API):]
        trusted = url.startswith(self.api_base + "/") or httpx.URL(url).host.endswith(".twilio.com")
        return url, self.auth if trusted else None

    async def image(self, media: Media) -> dict[str, str]:
        """``{"media_type", "data_b64"}`` as the dispatcher expects in ``payload["images"]``."""
        url, auth = self._resolve(media.url)
        try:
            async with self.client.stream("GET", url, auth=auth) as response:
                if response.status_code != 200:
                    raise MediaError(f"media download answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise MediaError(f"image larger than {self.max_bytes} bytes")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise MediaError(f"image larger than {self.max_bytes} bytes")
        except httpx.HTTPError as exc:
            raise MediaError(f"media download failed: {type(exc).__name__}") from None
        media_type = media.content_type.split(";")[0].strip().lower()
        return {"media_type": media_type, "data_b64": base64.b64encode(bytes(data)).decode("ascii")}

    async def close(self) -> None:
        await self.client.aclose()
