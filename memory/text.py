"""Tokenising text exactly like the FTS5 index does, plus the word lists query handling needs.

The FTS5 index stems with `porter unicode61 remove_diacritics 2`. To score candidates in
Python (term weights, pseudo-relevance feedback) we need the very same stems, so the
`Analyzer` asks a private in-memory SQLite FTS5 table with that tokenizer for them and
caches the answer per word: no second stemmer to drift out of step with the index.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable

from .schema import TOKENIZER

WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)

# Function words and chat filler: they carry no topic, and in an OR query they would
# pull in half the log.
STOP_WORDS = frozenset(
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

# Words that only make a sentence a question about memory ("do you remember what ...").
QUESTION_WORDS = frozenset(
    """what when where who whom whose which why how remember recall recalled mention mentioned
    talk talked discuss discussed describe name list tell ask asked happen happened
    anyone someone somebody person people""".split()
)

# Irregular forms the Porter stemmer cannot join; mapped both ways at query time.
IRREGULAR = {
    "went": "go", "gone": "go", "bought": "buy", "ran": "run", "ate": "eat", "eaten": "eat",
    "saw": "see", "seen": "see", "met": "meet", "took": "take", "taken": "take", "gave": "give",
    "given": "give", "made": "make", "wrote": "write", "written": "write", "began": "begin",
    "begun": "begin", "felt": "feel", "taught": "teach", "brought": "bring", "won": "win",
    "lost": "lose", "sold": "sell", "found": "find", "left": "leave", "kept": "keep",
    "built": "build", "drove": "drive", "driven": "drive", "flew": "fly", "flown": "fly",
    "swam": "swim", "sang": "sing", "sung": "sing", "fell": "fall", "fallen": "fall",
    "broke": "break", "broken": "break", "chose": "choose", "chosen": "choose", "drew": "draw",
    "drawn": "draw", "grew": "grow", "grown": "grow", "paid": "pay", "spent": "spend",
    "caught": "catch", "fought": "fight", "sent": "send", "lent": "lend", "held": "hold",
    "heard": "hear", "slept": "sleep", "spoke": "speak", "spoken": "speak", "stole": "steal",
    "threw": "throw", "wore": "wear", "worn": "wear", "rode": "ride",
    "children": "child", "kids": "kid", "mice": "mouse", "men": "man", "women": "woman",
    "feet": "foot", "teeth": "tooth", "geese": "goose", "people": "person",
}

# Small related-word table: each group is a topic; a query word in a group also looks for
# the other members (at a lower weight). Kept generic (everyday personal life and the home)
# on purpose; it is an aid for paraphrase, not a knowledge base.
RELATED_GROUPS: list[str] = [
    # outdoors, travel, places
    "camp camping tent campfire campsite marshmallows hike hiking hiked trail trails outdoors wilderness",
    "hike hiking trek trekking trail summit mountain climb walk",
    "travel traveled trip trips vacation holiday journey abroad flight flew tour visit visited getaway",
    "country countries abroad overseas foreign",
    "city town downtown neighborhood",
    "beach ocean sea coast shore swim swimming surf surfing lake waves",
    "park garden nature forest woods",
    # home and moving
    "move moved moving movers relocate relocated relocation apartment house home boxes",
    "renovate renovation remodel remodeling rebuild repair fix kitchen bathroom cabinets countertops",
    "house home apartment place flat",
    "neighbor neighbour neighbors neighborhood community",
    # work and school
    "job work career office boss manager employer company coworker colleague hired position role offer",
    "promotion promoted raise senior lead",
    "interview hiring application applied offer hired recruiter",
    "fired quit resign laid unemployed",
    "business startup company shop store entrepreneur",
    "school class classes course lesson lessons study studying university college degree education student teacher workshop",
    "exam test final graduate graduated graduation certified certificate license licensed diploma qualification",
    "teach teaching teacher mentor mentoring tutor coach",
    "talk speech presentation present presented lecture conference speak spoke",
    # family and relationships
    "kid kids child children son daughter family baby toddler",
    "baby pregnant pregnancy expecting due newborn",
    "parent parents mother mom mum dad father",
    "sibling siblings brother sister",
    "grandparent grandma grandpa grandmother grandfather",
    "cousin aunt uncle niece nephew relative relatives",
    "partner husband wife spouse girlfriend boyfriend fiance fiancee",
    "wedding married marriage marry ceremony engaged engagement proposed proposal bride groom",
    "date dating romantic relationship love",
    "divorce breakup split separated",
    "friend friends buddy pal roommate",
    "adopt adoption adopted foster rescue",
    # health
    "sick ill illness doctor hospital health injury injured hurt pain surgery sprain sprained broke",
    "dentist dental tooth teeth canal cavity",
    "therapy therapist counseling counselor mental anxiety depression stress",
    "exercise gym workout yoga fitness training",
    # pets and animals
    "dog puppy pup cat kitten pet pets hamster rabbit parrot",
    "vet veterinarian shots vaccine",
    "animal animals wildlife bird birds deer fox owl heron",
    # hobbies and culture
    "paint painting painted painter art artwork artist canvas draw drawing sketch watercolor watercolors",
    "exhibition exhibit gallery museum show showcase",
    "book books novel read reading reader author library story",
    "music song songs guitar piano violin drums band concert singing sing choir",
    "concert show gig live performance perform tour",
    "festival fair parade carnival",
    "run running ran marathon race jog jogging 5k finish",
    "craft crafts pottery ceramics clay wheel knit knitting sewing",
    "cook cooking cooked recipe bake baking baked meal dinner lunch breakfast food chef culinary dish",
    "restaurant cafe bakery diner eat ate",
    "photo photos picture pictures photography photograph camera lens shot",
    "movie movies film cinema theater",
    "game games gaming match play played team",
    "sport sports soccer football basketball tennis baseball volleyball hockey golf",
    "hobby hobbies pastime leisure",
    "garden gardening plant plants flower flowers vegetables tomatoes grow growing harvest",
    "dance dancing danced dancer ballet",
    "write writing writer blog journal poem poetry",
    "climb climbing bouldering",
    "bike biking cycling bicycle",
    "fish fishing",
    # money, things, events
    "car cars drive drives driving vehicle truck sedan minivan suv",
    "buy bought purchase shopping shop store",
    "money pay paid salary budget cost expensive price afford raised dollars",
    "gift present presents birthday party celebration celebrate",
    "volunteer volunteering volunteered charity donate donation donations fundraiser nonprofit shelter",
    "lost lose missing forgot left",
    "religion church faith spiritual",
    "lgbtq transgender trans gay lesbian queer pride identity",
    # the home box
    "light lights lamp bulb",
    "heat heating thermostat temperature warm",
    "speaker speakers sonos audio",
    "delivery package parcel courier",
    "door lock locked unlock",
]

class Analyzer:
    """Maps words to the stems the FTS5 index stores, using SQLite's own tokenizer."""

    def __init__(self, max_cache: int = 200_000) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._cache: dict[str, str] = {}
        self._max = max_cache
        self._lock = threading.Lock()

    def stems(self, words: Iterable[str]) -> dict[str, str]:
        """Stem of each word ('' when the tokenizer yields nothing for it)."""
        cache = self._cache  # once: a full cache is replaced by a new dict, never cleared in place
        out: dict[str, str] = {}
        missing: list[str] = []
        for w in set(words):
            s = cache.get(w)
            if s is None:
                missing.append(w)
            else:
                out[w] = s
        if missing:
            with self._lock:
                self._db.executemany(
                    "INSERT INTO t(rowid, x) VALUES (?, ?)", list(enumerate(missing, 1))
                )
                found: dict[int, str] = {}
                for doc, term in self._db.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
                    found.setdefault(doc, term)
                self._db.execute("DELETE FROM t")
                if len(self._cache) > self._max:
                    self._cache = {}
                cache = self._cache
                for i, w in enumerate(missing, 1):
                    cache[w] = out[w] = found.get(i, "")
        return out

    def tokens(self, text: str) -> list[str]:
        """Stems of a text in order, as the index sees it (apostrophes split like unicode61)."""
        words = [w for w in re.split(r"[^\w]+|_", text.lower()) if w]
        m = self.stems(words)
        return [m[w] for w in words if m[w]]

    def close(self) -> None:
        self._db.close()


def words(text: str) -> list[str]:
    """Words of a text with apostrophes kept inside ("don't"), lower-cased."""
    return [w.lower() for w in WORD_RE.findall(text)]
