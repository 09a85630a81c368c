"""Optional text embeddings for memory recall: an OpenAI-compatible ``/v1/embeddings`` endpoint, or a model
run on this box.

The ``memory`` library only wants ``callable(list[str]) -> vectors`` (and, for questions, another one); this
module builds them from ``[memory] embeddings = "openai" | "ollama"`` with plain httpx, so no SDK is loaded for
it, or from ``"local"``: a small sentence-embedding model run by fastembed (ONNX Runtime, no torch), downloaded
once into ``$CLAW_HOME/models`` or loaded from ``embeddings_path``. ``"none"`` (the default) needs no network
at all. Passages are embedded by the memory service's background filler, never inside a transaction; a failure
raises, and the episodes wait for the next try (a made-up vector would be a wrong match forever).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import Engine

from claw.config import MemorySection
from claw.logging import scrub
from memory import MemoryStore

DEFAULTS = {
    "openai": ("https://api.openai.com/v1", "text-embedding-3-small"),
    "ollama": ("http://127.0.0.1:11434/v1", "nomic-embed-text"),
}
BATCH = 256
LOCAL_MODEL = "BAAI/bge-small-en-v1.5"
#: Retrieval models trained with an instruction before the question (the passages go in as they are).
_BGE = "Represent this sentence for searching relevant passages: "
QUERY_PREFIXES = {f"BAAI/bge-{size}-en-v1.5": _BGE for size in ("small", "base", "large")}


class EmbeddingBackend(Protocol):
    """What the memory service and the CLI hold: passages, questions (maybe with an instruction), a model to load,
    and a name for what makes the vectors (another name's vectors are embedded again)."""

    @property
    def name(self) -> str: ...

    def load(self) -> None: ...

    def __call__(self, texts: list[str]) -> Sequence[Sequence[float]]: ...

    def query(self, texts: list[str]) -> Sequence[Sequence[float]]: ...

    def close(self) -> None: ...


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

    @property
    def name(self) -> str:
        return self.model  # not the URL: the same model reached another way (localhost, 127.0.0.1) is the same

    def __call__(self, texts: list[str]) -> Sequence[Sequence[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), BATCH):
            out.extend(self._batch(texts[i:i + BATCH]))
        return out

    def _batch(self, texts: list[str]) -> list[list[float]]:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(timeout=self.timeout, headers=headers)
        try:
            r = self._client.post(self.url, json={"model": self.model, "input": [t[:8000] or " " for t in texts]})
        except httpx.TransportError as exc:  # where it tried, and the setting that says so
            raise ConnectionError(f"cannot reach {self.url} for the model {self.model!r} ({type(exc).__name__}: "
                                  f"{exc}); is the server running, and is [memory] embeddings_base_url right?") from None
        if r.is_error:  # the server's own words say why ("model ... not found, try pulling it first")
            raise ValueError(f"{self.url} answered {r.status_code} for the model {self.model!r}: "
                             + scrub(" ".join(r.text.split())[:300]))
        try:
            data = sorted(r.json()["data"], key=lambda d: d.get("index", 0))
            vectors = [[float(x) for x in d["embedding"]] for d in data]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{self.url} answered something that is not a list of embeddings ({exc})") from None
        if len(vectors) != len(texts):
            raise ValueError(f"{len(vectors)} vectors for {len(texts)} texts")
        self.dimensions = len(vectors[0]) if vectors else self.dimensions
        return vectors

    def load(self) -> None:
        """Nothing to load: the server holds the model."""

    def query(self, texts: list[str]) -> Sequence[Sequence[float]]:
        return self(texts)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@dataclass
class LocalEmbedder:
    """A sentence-embedding model run here by fastembed; loaded on first use, on the caller's thread (the
    memory service's filler or search thread), so the daemon starts without ONNX Runtime in memory."""

    model: str
    cache_dir: Path
    path: Path | None = None  # a folder with the model's files: nothing is downloaded
    query_prefix: str = ""
    #: The daemon: questions never wait for the model to load (or download); until the background filler has
    #: loaded it they raise, and recall is lexical. The CLI loads it for its own question.
    queries_load: bool = True
    _engine: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        return self.model  # not the folder: moving it changes no vector

    def load(self) -> None:
        self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._engine is None:
                try:
                    from fastembed import TextEmbedding
                except ImportError:
                    raise RuntimeError('[memory] embeddings = "local" needs fastembed: pip install "claw[local]"') from None
                kw: dict[str, Any] = {"cache_dir": str(self.cache_dir)}
                if self.path is not None:
                    self._register(TextEmbedding)
                    kw |= {"specific_model_path": str(self.path), "local_files_only": True}
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                self._engine = TextEmbedding(self.model, **kw)
            return self._engine

    def _register(self, text_embedding: Any) -> None:
        """A model fastembed does not know, in a folder of Hugging Face files (``config.json`` names its width):
        mean pooling over the tokens, normalised, like sentence-transformers models."""
        assert self.path is not None
        known = [m for m in text_embedding.list_supported_models() if m["model"].lower() == self.model.lower()]
        if known:  # fastembed's own files for it (its pooling too): they must be in the folder
            if not (self.path / known[0]["model_file"]).is_file():
                raise FileNotFoundError(f"{self.path} has no {known[0]['model_file']}, the file fastembed loads for "
                                        f"{self.model}; give the folder's model another name to load its .onnx")
            return
        from fastembed.common.model_description import ModelSource, PoolingType

        onnx = sorted(self.path.rglob("*.onnx"))
        if not onnx:
            raise FileNotFoundError(f"no .onnx model in {self.path}")
        try:
            dim = int(json.loads((self.path / "config.json").read_text())["hidden_size"])
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{self.path}/config.json does not give the model's hidden_size ({exc})") from None
        text_embedding.add_custom_model(model=self.model, pooling=PoolingType.MEAN, normalization=True,
                                        sources=ModelSource(hf=self.model), dim=dim,
                                        model_file=str(onnx[0].relative_to(self.path)))

    def __call__(self, texts: list[str]) -> Sequence[Sequence[float]]:
        engine = self._load()
        return [v.tolist() for v in engine.embed([t[:4000] or " " for t in texts], batch_size=32)]

    def query(self, texts: list[str]) -> Sequence[Sequence[float]]:
        if self._engine is None and not self.queries_load:
            raise RuntimeError(f"the embedding model {self.model} is not loaded yet")
        return self([self.query_prefix + t for t in texts])

    def close(self) -> None:
        self._engine = None


def open_store(engine: Engine, backend: EmbeddingBackend | None) -> MemoryStore:
    """The memory store on claw.db, embedding with ``backend`` (questions through its ``query``)."""
    if backend is None:
        return MemoryStore(engine)
    return MemoryStore(engine, embeddings=backend, query_embeddings=backend.query, embeddings_name=backend.name)


def build_embedder(config: MemorySection, models: Path, daemon: bool = False) -> EmbeddingBackend | None:
    """The configured embedder, or None for ``embeddings = "none"``; ``models`` holds downloaded local models;
    in the ``daemon``, a local model is loaded by the background filler, never by a question."""
    if config.embeddings == "none":
        return None
    if config.embeddings == "local":
        model = config.embeddings_model or LOCAL_MODEL
        prefix = QUERY_PREFIXES.get(model, "") if config.embeddings_query_prefix is None else config.embeddings_query_prefix
        path = Path(config.embeddings_path).expanduser() if config.embeddings_path else None
        return LocalEmbedder(model, models, path, prefix, queries_load=not daemon)
    base, model = DEFAULTS[config.embeddings]
    key = config.embeddings_api_key
    if config.embeddings == "openai":
        base = config.embeddings_base_url or os.environ.get("OPENAI_BASE_URL") or base
        key = key or os.environ.get("OPENAI_API_KEY")
    else:
        base = config.embeddings_base_url or base
    return HttpEmbedder(base, config.embeddings_model or model, key, config.embeddings_timeout)
