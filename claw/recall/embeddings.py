"""Optional text embeddings for memory recall, from an OpenAI-compatible ``/v1/embeddings`` endpoint.

The ``memory`` library only wants ``callable(list[str]) -> vectors``; this module builds
one from ``[memory] embeddings = "openai" | "ollama"`` with plain httpx, so no SDK is
loaded for it. ``"none"`` (the default) needs no network at all. It is called by the
memory service's background filler, never inside a transaction; a failure raises, and the
episodes wait for the next try (a made-up vector would be a wrong match forever).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from claw.config import MemorySection

DEFAULTS = {
    "openai": ("https://api.openai.com/v1", "text-embedding-3-small"),
    "ollama": ("http://127.0.0.1:11434/v1", "nomic-embed-text"),
}
BATCH = 256


@dataclass
class HttpEmbedder:
    """Calls ``POST {base}/embeddings``; raises on any failure."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 10.0
    dimensions: int = 0
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return f"{base}/embeddings" if base.endswith("/v1") else f"{base}/v1/embeddings"

    def __call__(self, texts: list[str]) -> Sequence[Sequence[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), BATCH):
            out.extend(self._batch(texts[i:i + BATCH]))
        return out

    def _batch(self, texts: list[str]) -> list[list[float]]:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(timeout=self.timeout, headers=headers)
        r = self._client.post(self.url, json={"model": self.model, "input": [t[:8000] or " " for t in texts]})
        r.raise_for_status()
        try:
            data = sorted(r.json()["data"], key=lambda d: d.get("index", 0))
            vectors = [[float(x) for x in d["embedding"]] for d in data]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{self.url} answered something that is not a list of embeddings ({exc})") from None
        if len(vectors) != len(texts):
            raise ValueError(f"{len(vectors)} vectors for {len(texts)} texts")
        self.dimensions = len(vectors[0]) if vectors else self.dimensions
        return vectors

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def build_embedder(config: MemorySection) -> HttpEmbedder | None:
    """The configured embedder, or None for ``embeddings = "none"``."""
    if config.embeddings == "none":
        return None
    base, model = DEFAULTS[config.embeddings]
    key = config.embeddings_api_key
    if config.embeddings == "openai":
        base = config.embeddings_base_url or os.environ.get("OPENAI_BASE_URL") or base
        key = key or os.environ.get("OPENAI_API_KEY")
    else:
        base = config.embeddings_base_url or base
    return HttpEmbedder(base, config.embeddings_model or model, key, config.embeddings_timeout)
