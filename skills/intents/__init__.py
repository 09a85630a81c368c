"""Local fast path: home commands matched to Home Assistant intents (hassil) and run without the LLM."""

from .skill import LocalIntents

__all__ = ["LocalIntents"]
