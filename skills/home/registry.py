"""The home's one entity registry: areas, floors, entities and their current state.

Providers feed it (``upsert_*``, ``update_state``); everything else reads it:
the home tools, the local fast path (which rebuilds its slot lists when
``version`` changes), task watchers (``subscribe``) and ``GET /api/home``
(``snapshot``). ``resolve`` turns what a person says into entities and refuses
to guess: an ambiguous or unknown target raises an error listing candidates.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from . import services as svc
from .describe import describe
from .provider import AmbiguousTarget, Area, Entity, Floor, HomeError, NothingQueued, Provider, UnknownTarget


@dataclass(frozen=True)
class State:
    """An entity's state at one moment, as passed to subscribers."""

    state: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


StateCallback = Callable[[Entity, State | None, State | None], Any]

# Words that say nothing about which device.
_STOP = frozenset(
    "the a an my our your in on at of to for from please all every everything each both any "
    "and with is are that this those these house home whole entire".split()
)
_ALL = frozenset({"all", "every", "everything", "both", "each"})
# A word a person uses for a kind of device -> Home Assistant domains.
DOMAIN_WORDS: dict[str, frozenset[str]] = {
    w: frozenset(d)
    for w, d in {
        "light": {"light"}, "lamp": {"light"}, "lighting": {"light"}, "bulb": {"light"}, "lite": {"light"},
        "switch": {"switch"}, "plug": {"switch"}, "outlet": {"switch"}, "socket": {"switch"},
        "fan": {"fan"},
        "thermostat": {"climate"}, "heating": {"climate"}, "climate": {"climate"}, "hvac": {"climate"},
        "ac": {"climate"}, "aircon": {"climate"}, "heat": {"climate"}, "heater": {"climate"},
        "speaker": {"media_player"}, "sonos": {"media_player"}, "music": {"media_player"},
        "player": {"media_player"}, "tv": {"media_player"}, "stereo": {"media_player"},
        "cover": {"cover"}, "blind": {"cover"}, "shade": {"cover"}, "curtain": {"cover"}, "shutter": {"cover"},
        "door": {"cover", "lock"}, "lock": {"lock"}, "deadbolt": {"lock"},
        "camera": {"camera"}, "sensor": {"sensor", "binary_sensor"}, "temperature": {"sensor", "climate"},
    }.items()
}
#: A word for the home's one device of a class ("open the garage" -> the garage door named "Overhead Door").
_SOLE_CLASS = {"garage": "garage", "gate": "gate"}
_DOWNSTAIRS = frozenset({"downstairs", "ground", "ground floor", "main floor", "lower floor"})
_UPSTAIRS = frozenset({"upstairs", "first", "first floor", "upper floor", "second floor"})


def singular(word: str) -> str:
    """Crude English singular, applied alike to what is said and to names, so both meet."""
    if len(word) <= 3 or word.endswith("ss") or word.endswith("us"):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    text = text.lower().replace("'s ", " ").replace("’s ", " ")
    return [t for t in re.split(r"[^a-z0-9]+", text) if t]


def _content(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in _STOP]


def _sing(toks: Iterable[str]) -> tuple[str, ...]:
    return tuple(singular(t) for t in toks)


@dataclass
class _Keys:
    raw: set[tuple[str, ...]]  # exact names and aliases
    sing: set[tuple[str, ...]]  # the same, singular
    local: set[tuple[str, ...]]  # names without their area's words ("Office Lamp" -> "lamp")


class HomeRegistry:
    """Implements ``provider.Registry``; one instance per daemon, shared as ``ctx.services["home"]``."""

    def __init__(self, log: Any = None):
        self.log = log
        self._floors: dict[str, Floor] = {}
        self._areas: dict[str, Area] = {}
        self._entities: dict[str, Entity] = {}
        self._providers: dict[str, Provider] = {}
        self._provider_errors: dict[str, str] = {}
        self._subscribers: list[StateCallback] = []
        self._refreshers: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.version = 0
        self._index_version = -1
        self._keys: dict[str, _Keys] = {}
        self._place_keys: dict[tuple[str, ...], frozenset[str]] = {}
        self._vocab: list[str] = []

    # ---- what providers do -------------------------------------------------------------

    def upsert_floor(self, floor: Floor) -> None:
        if self._floors.get(floor.id) != floor:
            self._floors[floor.id] = replace(floor, aliases=list(floor.aliases))
            self.version += 1

    def upsert_area(self, area: Area) -> None:
        if self._areas.get(area.id) != area:
            self._areas[area.id] = replace(area, aliases=list(area.aliases))
            self.version += 1

    def remove_area(self, area_id: str) -> None:
        if self._areas.pop(area_id, None) is not None:
            self.version += 1

    def upsert_entity(self, entity: Entity) -> None:
        old = self._entities.get(entity.entity_id)
        new = replace(entity, attributes=dict(entity.attributes), aliases=list(entity.aliases))
        self._entities[entity.entity_id] = new
        if old is None or (old.name, old.aliases, old.area, old.provider) != (new.name, new.aliases, new.area, new.provider):
            self.version += 1
        if old is None or (old.state, old.attributes) != (new.state, new.attributes):
            self._notify(new, self._state_of(old), self._state_of(new))

    def remove_entity(self, entity_id: str) -> None:
        old = self._entities.pop(entity_id, None)
        if old is not None:
            self.version += 1
            self._notify(old, self._state_of(old), None)

    def update_state(self, entity_id: str, state: str, attributes: dict[str, Any] | None = None) -> None:
        """Set an entity's state; ``attributes``, when given, replaces them all (as in Home Assistant)."""
        entity = self._entities.get(entity_id)
        if entity is None:
            return
        new_attrs = dict(attributes) if attributes is not None else entity.attributes
        if entity.state == state and entity.attributes == new_attrs:
            return
        old = self._state_of(entity)
        entity.state = str(state)
        entity.attributes = new_attrs
        self._notify(entity, old, self._state_of(entity))

    def add_refresher(self, fn: Callable[[], None]) -> None:
        """A provider whose state is computed lazily (the demo thermostat) is asked to catch up before reads."""
        self._refreshers.append(fn)

    # ---- providers and service calls ----------------------------------------------------

    def add_provider(self, provider: Provider) -> None:
        self._providers[provider.name] = provider
        self._provider_errors.pop(provider.name, None)

    def remove_provider(self, name: str) -> None:
        """Forget a provider and everything it brought: its entities, and areas and floors left empty."""
        self._providers.pop(name, None)
        self._provider_errors.pop(name, None)
        for entity_id in [e.entity_id for e in self._entities.values() if e.provider == name]:
            self.remove_entity(entity_id)
        used = {e.area for e in self._entities.values()}
        for area_id in [a for a in self._areas if a not in used]:
            self.remove_area(area_id)
        floors = {a.floor for a in self._areas.values()}
        for floor_id in [f for f in self._floors if f not in floors]:
            del self._floors[floor_id]
            self.version += 1

    def provider_failed(self, name: str, error: str) -> None:
        """Record a provider that could not start, so health tells the owner."""
        self._provider_errors[name] = error

    @property
    def providers(self) -> Mapping[str, Provider]:
        return MappingProxyType(self._providers)

    def health(self) -> dict[str, Any]:
        parts: dict[str, Any] = {name: {"ok": False, "detail": err} for name, err in self._provider_errors.items()}
        for name, provider in self._providers.items():
            try:
                parts[name] = provider.health()
            except Exception as exc:  # a health probe must never take the daemon down
                parts[name] = {"ok": False, "detail": f"health check failed: {exc}"}
        ok = all(p.get("ok") for p in parts.values())
        detail = "; ".join(f"{name}: {p.get('detail', 'ok' if p.get('ok') else 'not ok')}" for name, p in parts.items())
        return {"ok": ok, "detail": detail or "no home backend", "providers": parts, "entities": len(self._entities)}

    async def call_service(
        self, service: str, entity_ids: Sequence[str], data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Validate, then route ``service`` to the providers owning ``entity_ids``.

        Returns the normalised data that was sent. Raises ``InvalidService`` before
        any device is touched, ``HomeError`` when a provider fails.
        """
        domain, name = svc.split_service(service)
        entities = []
        for eid in dict.fromkeys(entity_ids):
            entity = self._entities.get(eid)
            if entity is None:
                raise UnknownTarget(f"no device {eid!r}", eid, [])
            entities.append(entity)
        clean = svc.validate(service, entities, dict(data or {}))
        if "group_members" in clean:
            for member in clean["group_members"]:
                if member not in self._entities:
                    raise UnknownTarget(f"no speaker {member!r}", member, [])
        by_provider: dict[str, list[str]] = {}
        for entity in entities:
            by_provider.setdefault(entity.provider, []).append(entity.entity_id)
        errors: list[str] = []
        kinds: set[type[HomeError]] = set()
        for pname, ids in by_provider.items():
            provider = self._providers.get(pname)
            if provider is None:
                errors.append(f"{', '.join(self.name_of(i) for i in ids)}: backend {pname or '?'} is not running")
                continue
            try:
                await provider.call_service(domain, name, ids, dict(clean))
            except HomeError as exc:
                errors.append(str(exc))
                kinds.add(type(exc))
            except Exception as exc:  # a provider bug is still an honest error, not a crash
                errors.append(f"{pname} failed: {type(exc).__name__}: {exc}")
                kinds.add(HomeError)
        if errors:
            raise (NothingQueued if kinds == {NothingQueued} else HomeError)("; ".join(errors))
        return clean

    # ---- reading ------------------------------------------------------------------------

    def refresh(self) -> None:
        for fn in self._refreshers:
            fn()

    def get(self, entity_id: str) -> Entity | None:
        self.refresh()
        return self._entities.get(entity_id)

    def entities(self, domain: str | None = None, area: str | None = None) -> list[Entity]:
        self.refresh()
        return [
            e
            for e in self._entities.values()
            if (domain is None or e.domain == domain) and (area is None or e.area == area)
        ]

    def areas(self) -> list[Area]:
        return list(self._areas.values())

    def area(self, area_id: str | None) -> Area | None:
        return self._areas.get(area_id) if area_id else None

    def floors(self) -> list[Floor]:
        known = dict(self._floors)
        for a in self._areas.values():
            if a.floor and a.floor not in known:
                known[a.floor] = Floor(a.floor, a.floor.replace("_", " "))
        return list(known.values())

    def name_of(self, entity_id: str) -> str:
        entity = self._entities.get(entity_id)
        return entity.name if entity else entity_id

    def snapshot(self) -> dict[str, Any]:
        """The ``GET /api/home`` body."""
        self.refresh()
        return {
            "areas": [{"id": a.id, "name": a.name, "floor": a.floor} for a in self._areas.values()],
            "entities": [
                {
                    "entity_id": e.entity_id,
                    "name": e.name,
                    "area": e.area,
                    "state": e.state,
                    "summary": describe(e),  # brightness, set-point and units in words ("heat, set 21 °C")
                    "attributes": dict(e.attributes),
                    "simulated": bool(e.attributes.get("simulated")),
                }
                for e in self._entities.values()
            ],
        }

    # ---- subscriptions ------------------------------------------------------------------

    def subscribe(self, callback: StateCallback) -> Callable[[], None]:
        """Call ``callback(entity, old, new)`` on every state change; returns an unsubscribe function.

        ``old`` is None for a new entity, ``new`` None for a removed one. A coroutine
        callback is scheduled as a task; exceptions are logged, never propagated.
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    @staticmethod
    def _state_of(entity: Entity | None) -> State | None:
        if entity is None:
            return None
        return State(entity.state, MappingProxyType(dict(entity.attributes)))

    def _notify(self, entity: Entity, old: State | None, new: State | None) -> None:
        for callback in list(self._subscribers):
            try:
                result = callback(entity, old, new)
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._task_done)
            except Exception as exc:
                if self.log:
                    self.log.warning("home.subscriber_failed", entity_id=entity.entity_id, error=str(exc))

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() and self.log:
            self.log.warning("home.subscriber_failed", error=str(task.exception()))

    # ---- resolving what a person says ---------------------------------------------------

    def resolve(self, text: str, domain: str | Iterable[str] | None = None, *, many: bool = False) -> list[Entity]:
        """Entities meant by ``text`` ("kitchen lights", "the lamp in the office", "all lights downstairs").

        ``domain`` limits the search (a domain or several, e.g. those that can be
        turned on). Raises ``AmbiguousTarget`` when one device was asked for and
        several fit (unless ``many``: a status question may read several), and
        ``UnknownTarget`` when nothing does; both list candidates.
        """
        accept_many = many
        self._reindex()
        domains = frozenset([domain] if isinstance(domain, str) else domain) if domain else None
        pool = [e for e in self._entities.values() if domains is None or e.domain in domains]
        kind = " or ".join(sorted(domains)).replace("_", " ") if domains else "device"
        said = text.strip()
        exact = self._entities.get(said.lower())
        if exact is not None:
            if domains is None or exact.domain in domains:
                return [exact]
            raise UnknownTarget(f"{exact.name} is not a {kind}", said, [exact.name])

        all_toks = tokens(said)
        many = accept_many or any(t in _ALL for t in all_toks)
        content = [t for t in all_toks if t not in _STOP]
        plural = any(t != singular(t) and singular(t) in DOMAIN_WORDS for t in content)
        if not content:
            if (many and pool) or len(pool) == 1:
                return pool  # "all of them", or "the house" when there is one thermostat
            raise UnknownTarget(f"which {kind}? nothing was named", said, self._names(pool))
        raw, sing = tuple(content), _sing(content)

        hits = [e for e in pool if raw in self._keys[e.entity_id].raw]
        if not hits and not plural:
            hits = [e for e in pool if sing in self._keys[e.entity_id].sing]
        if hits:
            return self._pick(hits, many, said)

        places, rest = self._extract_places(list(sing))
        if places:
            local = [e for e in pool if e.area in places]
            where = ", ".join(sorted(self._areas[a].name for a in places if a in self._areas))
            if not local:
                raise UnknownTarget(f"no {kind} in {where}", said, self._names(pool))
            if not rest:
                return local  # "turn off the kitchen": everything there that can
            doms, leftover = self._domain_words(rest)
            if doms and not leftover and (many or plural):
                hits = [e for e in local if e.domain in doms]
                if hits:
                    return hits
            phrase = tuple(rest)
            hits = [e for e in local if phrase in self._keys[e.entity_id].sing]
            if not hits and len(places) == 1:
                hits = [e for e in local if phrase in self._keys[e.entity_id].local]
            if hits:
                return self._pick(hits, many or plural, said)
            if doms and not leftover:
                hits = [e for e in local if e.domain in doms]
                if hits:
                    return self._pick(hits, many or plural, said)
                raise UnknownTarget(f"no {' or '.join(sorted(doms))} in {where}", said, self._names(local))
            return self._fuzzy(phrase, local, many or plural, said, f"{kind} in {where}")

        doms, leftover = self._domain_words(list(sing))
        if doms and not leftover:
            hits = [e for e in pool if e.domain in doms]
            if hits:
                return self._pick(hits, many or plural, said)
            raise UnknownTarget(f"there is no {' or '.join(sorted(doms))}", said, [])
        if (cls := _SOLE_CLASS.get(leftover[0] if len(leftover) == 1 else "")) is not None:
            sole = [e for e in pool if e.attributes.get("device_class") == cls]
            if len(sole) == 1:
                return sole  # "the garage" is the home's one garage door, whatever it is called
        return self._fuzzy(sing, pool, many or plural, said, kind)

    def _pick(self, hits: list[Entity], many: bool, said: str) -> list[Entity]:
        if len(hits) == 1 or many:
            return hits
        names = self._names(hits)
        raise AmbiguousTarget(f'"{said}" could mean {", ".join(names)}: which one (or all)?', said, names)

    def _fuzzy(self, phrase: Sequence[str], pool: list[Entity], many: bool, said: str, kind: str) -> list[Entity]:
        """Every word said must match a word of a name (exactly or by a near spelling); best matches win."""
        near: dict[str, dict[str, float]] = {}
        for word in set(phrase):
            if word in self._vocab:
                near[word] = {word: 1.0}
            else:
                close = difflib.get_close_matches(word, self._vocab, n=8, cutoff=0.8)
                near[word] = {c: difflib.SequenceMatcher(None, word, c).ratio() for c in close}
        scored: list[tuple[float, Entity]] = []
        if all(near.values()):
            for e in pool:
                keys = self._keys[e.entity_id]
                best = max((_subset_score(phrase, key, near) for key in keys.sing | keys.local), default=0.0)
                if best > 0:
                    scored.append((best, e))
        if scored:
            top = max(s for s, _ in scored)
            hits = [e for s, e in scored if s >= top - 0.02]
            return self._pick(hits, many, said)
        names = self._closest(" ".join(phrase), pool)
        hint = f"; closest: {', '.join(names)}" if names else ""
        raise UnknownTarget(f'no {kind} matches "{said}"{hint}', said, names)

    def _closest(self, phrase: str, pool: list[Entity]) -> list[str]:
        by_key: dict[str, Entity] = {}
        for e in pool:
            for key in self._keys[e.entity_id].sing:
                by_key.setdefault(" ".join(key), e)
        close = difflib.get_close_matches(phrase, list(by_key), n=5, cutoff=0.5)
        found = list(dict.fromkeys(by_key[k].entity_id for k in close))
        if not found and len(pool) <= 8:
            found = [e.entity_id for e in pool]
        return self._names([self._entities[i] for i in found])

    def _names(self, entities: list[Entity]) -> list[str]:
        """Friendly names, with the area where two share a name."""
        counts: dict[str, int] = {}
        for e in entities:
            counts[e.name] = counts.get(e.name, 0) + 1
        out = []
        for e in entities:
            area = self._areas.get(e.area or "")
            out.append(f"{e.name} ({area.name if area else e.entity_id})" if counts[e.name] > 1 else e.name)
        return out

    @staticmethod
    def _domain_words(toks: list[str]) -> tuple[frozenset[str], list[str]]:
        doms: set[str] = set()
        leftover = []
        for t in toks:
            if t in DOMAIN_WORDS:
                doms |= DOMAIN_WORDS[t]
            else:
                leftover.append(t)
        return frozenset(doms), leftover

    def _extract_places(self, toks: list[str]) -> tuple[set[str], list[str]]:
        """Take the longest area or floor names out of ``toks``; return area ids and what is left."""
        places: set[str] = set()
        rest: list[str] = []
        i = 0
        longest = max((len(k) for k in self._place_keys), default=0)
        while i < len(toks):
            for n in range(min(longest, len(toks) - i), 0, -1):
                key = tuple(toks[i : i + n])
                if key in self._place_keys:
                    places |= self._place_keys[key]
                    i += n
                    if i < len(toks) and toks[i] in {"floor", "room"}:
                        i += 1
                    break
            else:
                rest.append(toks[i])
                i += 1
        return places, rest

    def _reindex(self) -> None:
        if self._index_version == self.version:
            return
        place: dict[tuple[str, ...], set[str]] = {}

        def add(text: str, area_ids: Iterable[str]) -> None:
            key = _sing(_content(text))
            if key:
                place.setdefault(key, set()).update(area_ids)

        for a in self._areas.values():
            for text in [a.name, a.id.replace("_", " "), *a.aliases]:
                add(text, [a.id])
        floors = self.floors()
        levels = [f.level for f in floors if f.level is not None]
        lowest = min(levels) if levels else None
        for f in floors:
            in_floor = [a.id for a in self._areas.values() if a.floor == f.id]
            for text in [f.id.replace("_", " "), f.name, f"{f.name} floor", *f.aliases]:
                add(text, in_floor)
            # "downstairs"/"upstairs" from levels when the home gives them, else from usual floor names
            names = {f.id.lower().replace("_", " "), f.name.lower()} | {x.lower() for x in f.aliases}
            down = f.level == lowest if lowest is not None else bool(names & _DOWNSTAIRS)
            up = f.level is not None and lowest is not None and f.level > lowest if levels else bool(names & _UPSTAIRS)
            aliased = {" ".join(_content(x)) for fl in floors for x in fl.aliases}
            if down and "downstairs" not in aliased:
                add("downstairs", in_floor)
            if up and "upstairs" not in aliased:
                add("upstairs", in_floor)
        self._place_keys = {k: frozenset(v) for k, v in place.items()}

        self._keys = {}
        vocab: set[str] = set()
        for e in self._entities.values():
            # not the object id: "light.bedroom" would make "bedroom" name one device, not the room
            texts = [e.name, *e.aliases]
            raw = {tuple(_content(t)) for t in texts} - {()}
            sing = {_sing(k) for k in raw}
            area = self._areas.get(e.area or "")
            local: set[tuple[str, ...]] = set()
            if area:
                area_words = set(_sing(_content(area.name))) | {w for al in area.aliases for w in _sing(_content(al))}
                area_words |= set(_sing(_content(area.id.replace("_", " "))))
                for k in sing:
                    stripped = tuple(t for t in k if t not in area_words)
                    if stripped and stripped != k:
                        local.add(stripped)
            self._keys[e.entity_id] = _Keys(raw, sing, local)
            vocab.update(w for k in sing for w in k)
        self._vocab = sorted(vocab)
        self._index_version = self.version


def _subset_score(said: Sequence[str], key: Sequence[str], near: Mapping[str, Mapping[str, float]]) -> float:
    """Mean similarity when every word said matches a distinct word of ``key``; 0 otherwise."""
    if not said or len(said) > len(key):
        return 0.0
    free = list(key)
    total = 0.0
    for word in said:
        options = near.get(word, {})
        best, best_i = 0.0, -1
        for i, cand in enumerate(free):
            r = options.get(cand, 0.0)
            if r > best:
                best, best_i = r, i
        if best_i < 0:
            return 0.0
        total += best
        free.pop(best_i)
    # a name fully said beats one only partly said ("lamp" -> "Lamp" over "Desk Lamp")
    return total / len(said) - 0.03 * len(free)
