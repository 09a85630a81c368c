"""An async HTTP client for the ``twilio`` SDK on httpx, pointing it at ``[whatsapp] api_base``.

The SDK builds absolute ``https://api.twilio.com/...`` URLs; this client
rewrites that prefix, so tests and self-hosted relays get the real SDK code
path (request encoding, error parsing, paging) against another server. It also
remembers the last response's ``Retry-After``, which the SDK's exceptions drop.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

import httpx
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

TWILIO_API = "https://api.twilio.com"

#: ``Retry-After`` of the last response seen in this task (seconds), or None.
last_retry_after: contextvars.ContextVar[float | None] = contextvars.ContextVar("twilio_retry_after", default=None)


class HttpxTwilioClient(AsyncHttpClient):
    def __init__(self, api_base: str = TWILIO_API, timeout: float = 15.0):
        super().__init__(logging.getLogger("twilio.http_client"), True, timeout)
        self.api_base = api_base.rstrip("/")
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    def rewrite(self, url: str) -> str:
        if self.api_base != TWILIO_API and url.startswith(TWILIO_API):
            return self.api_base + url[len(TWILIO_API):]
        return url

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        response = await self.client.request(
            method.upper(), self.rewrite(url), params=_flat(params), data=_flat(data), headers=headers, auth=auth,
            timeout=timeout or self.timeout, follow_redirects=allow_redirects,
        )
        retry_after = response.headers.get("retry-after")
        try:
            last_retry_after.set(float(retry_after) if retry_after else None)
        except ValueError:
            last_retry_after.set(None)
        return Response(response.status_code, response.text, response.headers)

    async def close(self) -> None:
        await self.client.aclose()


def _flat(values: dict[str, object] | None) -> dict[str, Any] | None:
    """The SDK passes ``values.unset`` placeholders and lists; httpx wants plain strings or lists of them."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return out
