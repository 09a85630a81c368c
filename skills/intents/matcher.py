"""Sentence matching: hassil over home-assistant-intents' sentences, with slot lists from the home registry.

The language data is parsed once per process (it costs ~0.2 s for English);
the slot lists (names, aliases, areas, floors) are rebuilt only when the
registry's ``version`` moves, so a message costs one ``recognize_all`` pass.
"""

from __future__ import annotations

import copy
import functools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hassil import Intents
from hassil.expression import Alternative, Expression, Group, ListReference, RuleReference, Sentence, TextChunk
from hassil.intents import IntentData, SlotList, TextSlotList, TextSlotValue
from hassil.recognize import RecognizeResult, recognize_all
from hassil.util import CJK_WHITESPACE, PUNCTUATION_STR, fold_case, normalize_for_matching, remove_skip_words_tracked

#: Intents the fast path can carry out; any other best match goes to the planner.
SUPPORTED = frozenset({
    "HassTurnOn", "HassTurnOff", "HassLightSet", "HassClimateSetTemperature", "HassClimateGetTemperature",
    "HassMediaPause", "HassMediaUnpause", "HassMediaNext", "HassMediaPrevious", "HassSetVolume",
    "HassMediaPlayerMute", "HassMediaPlayerUnmute", "HassGetState",
})

#: Slot value standing for "whatever this conversation last acted on".
PRONOUN = "__last__"
#: Area slot value meaning "the message did not say, and its sender has no area".
NO_AREA = "__no_area__"
#: Area slot values for the whole home ("in the house") and for what is outdoors ("outside").
HOME = "__home__"
OUTSIDE = "__outside__"
#: Words for them, per language (added to the area list unless an area of the home is called so).
PLACE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {HOME: ("house", "home", "whole house", "entire house", "apartment", "flat", "whole home"),
           OUTSIDE: ("outside", "outdoors")},
}
#: Everyday words for a home's only device of a kind (climate; a garage door), per language.
SOLE_WORDS: dict[str, dict[tuple[str, str | None], tuple[str, ...]]] = {
    "en": {("climate", None): ("heat", "heating", "the heating", "thermostat", "ac", "a/c", "air conditioning",
                               "aircon", "air con", "climate"),
           ("cover", "garage"): ("garage", "garage door")},
}
#: The last word of a thermometer's name that a question about temperature leaves out ("how hot is the spa").
THERMOMETER_WORDS: dict[str, tuple[str, ...]] = {"en": ("temperature", "temp")}
#: Words for floors by level, per language, when the home's floors do not already use them.
LEVEL_WORDS: dict[str, dict[int, tuple[str, ...]]] = {
    "en": {-1: ("basement", "cellar"), 0: ("downstairs", "ground floor", "ground"), 1: ("upstairs", "first floor"),
           2: ("second floor",), 3: ("third floor",)},
}

# Words that point back at the last devices, per language (only where a pronoun fits HA's {name} position).
PRONOUNS: dict[str, tuple[str, ...]] = {
    "en": ("it", "them", "that", "this", "those", "these", "that one", "this one"),
    "de": ("es", "sie", "ihn", "das"),
    "nl": ("het", "ze", "die", "dat"),
    "sv": ("den", "det", "dem"),
    "da": ("den", "det", "dem"),
    "nb": ("den", "det", "dem"),
}


class LanguageNotSupported(Exception):
    """home-assistant-intents ships no sentences for this language."""


@dataclass(frozen=True)
class Language:
    """One language's parsed sentences and response templates."""

    code: str
    intents: Intents
    responses: dict[str, dict[str, str]]
    errors: dict[str, str]
    load_seconds: float


def available_languages() -> list[str]:
    from home_assistant_intents import get_languages

    return list(get_languages())


@functools.lru_cache(maxsize=4)
def load_language(code: str) -> Language:
    """Parse a language's sentences (cached: paid once per process)."""
    from home_assistant_intents import get_intents

    started = time.perf_counter()
    data = get_intents(code)
    if data is None:
        langs = available_languages()
        base = [lang for lang in langs if lang.split("-")[0] == code.split("-")[0]]
        if not base:
            raise LanguageNotSupported(f"no home-assistant-intents sentences for language {code!r}")
        data = get_intents(base[0])
        assert data is not None
    responses = data.get("responses", {})
    intents = Intents.from_dict(_with_our_sentences(data, code))
    return Language(
        code=intents.language or code,
        intents=intents,
        responses=dict(responses.get("intents", {})),
        errors=dict(responses.get("errors", {})),
        load_seconds=time.perf_counter() - started,
    )


OUR_SENTENCES = Path(__file__).with_name("sentences")


def _with_our_sentences(data: dict[str, Any], code: str) -> dict[str, Any]:
    """home-assistant-intents' data plus our sentences for the language (``sentences/<lang>.yaml``), if any."""
    path = OUR_SENTENCES / f"{code.split('-')[0]}.yaml"
    if not path.is_file():
        return data
    ours = yaml.safe_load(path.read_text(encoding="utf-8"))
    merged = {**data, "intents": dict(data["intents"]),
              "skip_words": [*data.get("skip_words", []), *ours.get("skip_words", [])]}
    for name, intent in ours.get("intents", {}).items():
        base = merged["intents"].get(name, {"data": []})
        merged["intents"][name] = {**base, "data": [*base["data"], *intent["data"]]}
    return merged


def normalize(text: str) -> str:
    """The key a name is indexed under: lower case, single spaces, no punctuation at the ends."""
    return re.sub(r"\s+", " ", text.strip().strip(".,!?;:").casefold())


@dataclass
class SlotIndex:
    """Slot lists for hassil plus what their values point at; one per registry version."""

    version: tuple[int, int]  # (id of the registry, its version)
    lists: dict[str, SlotList]  # hassil's recognize_all takes a Dict[str, SlotList] (invariant)
    names: dict[str, list[str]]  # name key -> entity ids carrying that name or alias
    built_seconds: float = 0.0
    words: tuple[frozenset[str], ...] = ()  # the words of each name, alias, pronoun, area and floor


def build_slots(registry: Any, language: str) -> SlotIndex:
    """Names and aliases (each with its entity's domain as context), areas, floors, and pronouns."""
    started = time.perf_counter()
    names: dict[str, list[str]] = {}
    values: list[TextSlotValue] = []
    seen: set[tuple[str, str]] = set()
    domains: set[str] = set()
    for entity in registry.entities():
        domains.add(entity.domain)
        for text in dict.fromkeys([entity.name, *entity.aliases]):
            key = normalize(text)
            if not key:
                continue
            ids = names.setdefault(key, [])
            if entity.entity_id not in ids:
                ids.append(entity.entity_id)
            if (key, entity.domain) not in seen:
                seen.add((key, entity.domain))
                values.append(TextSlotValue.from_tuple((text, key, {"domain": entity.domain}), allow_template=False))
    lang = language.split("-")[0]
    entities = registry.entities()
    for (domain, device_class), words in SOLE_WORDS.get(lang, {}).items():
        kind = [e for e in entities if e.domain == domain
                and (device_class is None or e.attributes.get("device_class") == device_class)]
        if len(kind) != 1:
            continue  # only the home's one thermostat is "the heat"
        for word in words:
            key = normalize(word)
            if key not in names:
                names[key] = [kind[0].entity_id]
                values.append(TextSlotValue.from_tuple((word, key, {"domain": domain}), allow_template=False))
    taken = {normalize(t) for a in registry.areas() for t in [a.name, *a.aliases]}
    taken |= {normalize(t) for f in registry.floors() for t in [f.name, *f.aliases]}
    for e in entities:  # "Spa Temperature" is also "the spa" to a question about temperature
        if e.domain != "sensor" or e.attributes.get("device_class") != "temperature":
            continue
        words = e.name.split()
        if len(words) > 1 and words[-1].casefold() in THERMOMETER_WORDS.get(lang, ()):
            short = " ".join(words[:-1])
            key = normalize(short)
            if key and key not in names and key not in taken:
                names[key] = [e.entity_id]
                values.append(TextSlotValue.from_tuple((short, key, {"domain": "sensor"}), allow_template=False))
    for word in PRONOUNS.get(lang, ()):
        for domain in sorted(domains):
            values.append(TextSlotValue.from_tuple((word, PRONOUN, {"domain": domain}), allow_template=False))
    areas: list[TextSlotValue] = []
    for area in registry.areas():
        for text in dict.fromkeys([area.name, *area.aliases]):
            if text.strip():
                areas.append(TextSlotValue.from_tuple((text, area.id), allow_template=False))
    for value, words in PLACE_WORDS.get(lang, {}).items():
        areas += [TextSlotValue.from_tuple((w, value), allow_template=False) for w in words if normalize(w) not in taken]
    floors: list[TextSlotValue] = []
    levels: dict[int, list[str]] = {}
    for floor in registry.floors():
        if floor.level is not None:
            levels.setdefault(floor.level, []).append(floor.id)
        for text in dict.fromkeys([floor.name, *floor.aliases]):
            if text.strip():
                floors.append(TextSlotValue.from_tuple((text, floor.id), allow_template=False))
    for level, words in LEVEL_WORDS.get(lang, {}).items():
        if len(levels.get(level, [])) == 1:  # "upstairs" means the one floor at that level
            floors += [TextSlotValue.from_tuple((w, levels[level][0]), allow_template=False)
                       for w in words if normalize(w) not in taken]
    lists: dict[str, SlotList] = {
        "name": TextSlotList(name="name", values=values),
        "area": TextSlotList(name="area", values=areas),
        "floor": TextSlotList(name="floor", values=floors),
    }
    phrases = tuple({frozenset(_WORD.findall(v.text_in.text.casefold())) for v in [*values, *areas, *floors]
                     if isinstance(v.text_in, TextChunk)} - {frozenset()})
    return SlotIndex((id(registry), registry.version), lists, names, time.perf_counter() - started, phrases)


@dataclass
class Match:
    """One reading of the message: an intent and its slot values."""

    intent: str
    slots: dict[str, Any]
    slot_text: dict[str, str]
    response: str
    combination: str
    literal_chunks: int
    wildcards: int
    domain: str | None = None  # from the matched name's context
    name_domains: list[str] = field(default_factory=list)  # domains the sentence allows for {name}

    @property
    def priority(self) -> tuple[int, int, int, int]:
        """Home Assistant's preference: a named device (longest name) first, then fewer wildcards, more literal text."""
        name = self.slots.get("name")
        named = name is not None and name != PRONOUN
        return (1 if named else 0, len(self.slot_text.get("name", "")) if named else 0, -self.wildcards, self.literal_chunks)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"intent": self.intent, "slots": dict(self.slots), "response": self.response}
        if self.domain:
            out["domain"] = self.domain
        return out


_WORD = re.compile(r"\w+")
#: A sentence with no literal word, only a device, area or floor ("[the] {name}"): it can match only
#: when one of the home's names is said (or any text, when unmatched names are allowed).
NAMED: tuple[str, ...] = ()
_SLOT_ONLY = re.compile(r"\{(?:name|area|floor)[}:]")
_PUNCTUATION = frozenset(PUNCTUATION_STR)


@dataclass(frozen=True)
class _Template:
    intent: str
    data: IntentData
    sentence: Sentence



@dataclass(frozen=True)
class _Templates:
    """Templates grouped by the clauses they need (a bit mask over ``clauses``), so each clause and
    each group is checked once per message, not once per template."""

    clauses: tuple[tuple[str, ...], ...]  # a clause holds when any one of its fragments occurs (NAMED: see there)
    groups: tuple[tuple[int, tuple[_Template, ...]], ...]


def _list_clauses(exp: Expression, rules: dict[str, Sentence], intents: Intents, depth: int = 0) -> set[frozenset[str]]:
    """What hassil's required clauses leave out: a fixed word list the sentence cannot match without
    ({color}, {lock_states}, {color_temperature_names}) needs one of its words in the text. Same rules as
    hassil's: an optional part or an alternative with a branch needing nothing constrains nothing."""
    if depth > 20:
        return set()
    if isinstance(exp, ListReference):
        values = getattr(intents.slot_lists.get(exp.list_name), "values", None)
        words = [v.text_in.text.split()[:1] if isinstance(v.text_in, TextChunk) else [] for v in values or ()]
        if not words or not all(w and _PUNCTUATION.isdisjoint(w[0]) for w in words):
            return set()  # the home's own lists, ranges, templates or punctuation: unknown until the message
        return {frozenset(fold_case(w[0]) for w in words)}
    if isinstance(exp, Alternative):
        if exp.is_optional or not exp.items:
            return set()
        branches = [_list_clauses(item, rules, intents, depth + 1) for item in exp.items]
        if any(not b for b in branches):
            return set()
        return {frozenset(word for b in branches for word in min(b, key=len))}
    if isinstance(exp, Group):
        return {c for item in exp.items for c in _list_clauses(item, rules, intents, depth + 1)}
    if isinstance(exp, RuleReference) and exp.rule_name in rules:
        return _list_clauses(rules[exp.rule_name].expression, rules, intents, depth + 1)
    return set()


@functools.lru_cache(maxsize=4)
def _templates(code: str) -> _Templates:
    """Every sentence template with the literal text it requires, computed once (hassil redoes it per call)."""
    intents = load_language(code).intents
    clauses: dict[frozenset[str] | tuple[str, ...], int] = {}  # hassil's clauses, and NAMED
    groups: dict[int, list[_Template]] = {}
    for intent in intents.intents.values():
        for data in intent.data:
            rules = {**intents.expansion_rules, **data.expansion_rules}
            for sentence in data.sentences:
                mask = 0
                required = sentence.get_required_clauses(rules) | _list_clauses(sentence.expression, rules, intents)
                for clause in required:
                    mask |= 1 << clauses.setdefault(clause, len(clauses))
                if not mask and sentence.text is not None and _SLOT_ONLY.search(sentence.text):
                    mask = 1 << clauses.setdefault(NAMED, len(clauses))
                groups.setdefault(mask, []).append(_Template(intent.name, data, sentence))
    return _Templates(tuple(tuple(c) for c in clauses), tuple((m, tuple(ts)) for m, ts in groups.items()))


class Matcher:
    """Sentences of one language against one home's slot lists."""

    def __init__(self, language: str):
        self.language = load_language(language)
        self.templates = _templates(language)
        self.slots: SlotIndex | None = None

    def _named(self, haystack: str) -> bool:
        """Whether a name, area or floor of the home (or a pronoun) occurs in the text, as whole words."""
        if self.slots is None or self.language.intents.settings.ignore_whitespace:
            return True
        said = set(_WORD.findall(haystack))
        return any(words <= said for words in self.slots.words)

    def knows_any(self, text: str) -> bool:
        """Whether a word of ``text`` belongs to a name, area or floor of the home (so it may mean a real device)."""
        if self.slots is None:
            return True
        known = {w for words in self.slots.words for w in words}
        return bool(set(_WORD.findall(text.casefold())) & known)

    def _candidates(self, text: str, unmatched: bool = False) -> Intents:
        """Only the templates whose required words occur in ``text``: the same filter hassil applies, precomputed."""
        intents = self.language.intents
        tracked = normalize_for_matching(text)
        with_skip = tracked.text
        no_skip = tracked.copy()
        remove_skip_words_tracked(no_skip, intents.skip_words, intents.settings.ignore_whitespace)
        haystack = f"{with_skip.casefold()}\n{no_skip.text.casefold()}"
        if intents.settings.ignore_whitespace:
            haystack += "\n" + CJK_WHITESPACE.sub("", haystack)
        missing = 0
        for i, clause in enumerate(self.templates.clauses):
            if clause == NAMED:
                if not unmatched and not self._named(haystack):
                    missing |= 1 << i
            elif not any(fragment in haystack for fragment in clause):
                missing |= 1 << i
        picked: dict[int, tuple[str, IntentData, list[Sentence]]] = {}
        for mask, group in self.templates.groups:
            if mask & missing:
                continue
            for t in group:
                entry = picked.get(id(t.data))
                if entry is None:
                    picked[id(t.data)] = (t.intent, t.data, [t.sentence])
                else:
                    entry[2].append(t.sentence)
        by_intent: dict[str, Any] = {}
        for name, data, sentences in picked.values():
            reduced = copy.copy(data)
            reduced.__dict__["sentences"] = sentences  # IntentData.sentences is a cached_property
            by_intent.setdefault(name, []).append(reduced)
        from hassil.intents import Intent

        return Intents(
            language=intents.language,
            intents={name: Intent(name, data) for name, data in by_intent.items()},
            slot_lists=intents.slot_lists,
            expansion_rules=intents.expansion_rules,
            skip_words=intents.skip_words,
            settings=intents.settings,
        )

    def refresh(self, registry: Any) -> bool:
        """Rebuild slot lists when the registry's names or areas changed; True when rebuilt."""
        if self.slots is not None and self.slots.version == (id(registry), registry.version):
            return False
        self.slots = build_slots(registry, self.language.code)
        return True

    def recognize(self, text: str, area: str | None = None, *, unmatched: bool = False) -> list[Match]:
        """Every reading of ``text``; ``area`` is the sender's area (else NO_AREA stands in for it)."""
        assert self.slots is not None, "refresh() first"
        context = {"area": {"value": area or NO_AREA, "text": ""}}
        out: list[Match] = []
        for result in recognize_all(
            text,
            self._candidates(text, unmatched),
            slot_lists=self.slots.lists,
            intent_context=context,
            allow_unmatched_entities=unmatched,
            language=self.language.code,
        ):
            if unmatched and not result.unmatched_entities:
                continue
            out.append(self._match(result))
        return out

    @staticmethod
    def _match(result: RecognizeResult) -> Match:
        slots: dict[str, Any] = {}
        slot_text: dict[str, str] = {}
        wildcards = 0
        for entity in result.entities_list:
            slots[entity.name] = entity.value
            slot_text[entity.name] = entity.text_clean if entity.text else ""
            wildcards += 1 if entity.is_wildcard else 0
        for unmatched in result.unmatched_entities_list:
            slot_text.setdefault(unmatched.name, getattr(unmatched, "text", "").strip())
        domain = result.context.get("domain") if isinstance(result.context.get("domain"), str) else None
        required = result.intent_data.requires_context.get("domain") if result.intent_data.requires_context else None
        name_domains = [required] if isinstance(required, str) else list(required or [])
        metadata = result.intent_metadata or {}
        return Match(
            intent=result.intent.name,
            slots=slots,
            slot_text=slot_text,
            response=result.response or "default",
            combination=str(metadata.get("slot_combination", "")),
            literal_chunks=result.text_chunks_matched,
            wildcards=wildcards,
            domain=domain,
            name_domains=name_domains,
        )
