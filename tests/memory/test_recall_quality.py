"""Recall quality guard on the LoCoMo-shaped synthetic set (bench/memory_eval.py).

Small (2 chats per split) so it runs in seconds; the full figures come from the bench.
The thresholds sit a few points under what the shipped configuration reaches, so a change
that loses recall, or that only helps the tuning templates, fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

memory_eval = pytest.importorskip("memory_eval")


@pytest.mark.parametrize("holdout", [False, True], ids=["tuning", "heldout"])
def test_search_beats_plain_bm25(holdout: bool) -> None:
    out = memory_eval.evaluate(seed=11, n_convs=2, holdout=holdout)
    res = out["res"]
    ours = memory_eval.recall(res["claw"], "overall", 10)
    base = memory_eval.recall(res["bm25"], "overall", 10)
    assert ours >= base, (ours, base)
    ours_multi = memory_eval.recall(res["claw"], "multi-session", 10)
    base_multi = memory_eval.recall(res["bm25"], "multi-session", 10)
    assert ours_multi >= base_multi - 0.02, (ours_multi, base_multi)


def test_generator_shape() -> None:
    convs = memory_eval.generate(seed=3, n_convs=2)
    for _conv, eps, questions, _now in convs:
        assert 450 <= len(eps) <= 800
        sessions = {e["at"].date() for e in eps}
        assert 19 <= len(sessions) <= 32
        kinds = {k for _, k, _ in questions}
        assert {"single-hop", "multi-session", "temporal", "adversarial"} <= kinds
        keys = {e["key"] for e in eps if e["key"]}
        assert all(set(ks) <= keys for _, _, ks in questions)
        multi = [ks for _, k, ks in questions if k == "multi-session"]
        assert multi and all(len(ks) >= 2 for ks in multi)


def test_prefix_terms_reach_forms_the_stemmer_does_not_join(tmp_path: Path) -> None:
    from datetime import datetime

    from memory import MemoryStore, SearchParams

    texts = ["My dream is to become a writer someday", "The weather is nice", "the bakery opened"]
    for weight, found in ((0.0, False), (0.5, True)):
        s = MemoryStore(f"sqlite:///{tmp_path / f'p{weight}.db'}",
                        params=SearchParams(prefix_weight=weight, expansion_weight=0))
        s.add_episodes([{"text": t, "speaker": "Ann", "at": datetime(2024, 1, i + 1)} for i, t in enumerate(texts)])
        hits = s.search("Would Ann pursue writing as a career?", k=3)
        assert (bool(hits) and hits[0].text == texts[0]) is found
        s.close()
