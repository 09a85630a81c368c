"""Conditions on home state ("cover.garage_door == open", "sensor.spa_temperature < 36"), checked locally.

Watchers and goals' stop conditions use them; evaluating one never needs the LLM.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPS = ("==", "!=", "<=", ">=", "<", ">")
_WORD_OPS = {"is not": "!=", "is": "==", "=": "==", "below": "<", "under": "<", "above": ">", "over": ">"}
_PATTERN = re.compile(
    r"^\s*(?P<entity>[a-z_]+\.[a-z0-9_]+)(?:\.(?P<attr>[a-z0-9_]+))?\s*"
    r"(?P<op>==|!=|<=|>=|<|>|=|is not|is|below|under|above|over)\s*(?P<value>.+?)\s*$",
    re.I,
)


class ConditionError(ValueError):
    """A condition that cannot be read, phrased for the person who wrote it."""


@dataclass(frozen=True)
class Condition:
    entity_id: str
    attribute: str | None
    op: str
    value: str

    def describe(self) -> str:
        target = f"{self.entity_id}.{self.attribute}" if self.attribute else self.entity_id
        return f"{target} {self.op} {self.value}"

    def current(self, state: str | None, attributes: Mapping[str, Any] | None) -> Any:
        if state is None:
            return None
        return (attributes or {}).get(self.attribute) if self.attribute else state

    def holds(self, state: str | None, attributes: Mapping[str, Any] | None) -> bool:
        """Numbers compare as numbers; anything else as case-insensitive text (only == and !=)."""
        current = self.current(state, attributes)
        if current is None or current in ("unavailable", "unknown"):
            return False
        a, b = _number(current), _number(self.value)
        if a is not None and b is not None:
            return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[self.op]
        left, right = str(current).strip().lower(), self.value.strip().strip("'\"").lower()
        if self.op == "==":
            return left == right
        if self.op == "!=":
            return left != right
        return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_condition(text: str) -> Condition:
    m = _PATTERN.match(text or "")
    if not m:
        raise ConditionError(
            f"cannot read the condition {text!r}: write it as '<entity_id>[.attribute] <op> <value>', "
            "e.g. 'cover.garage_door == open' or 'sensor.spa_temperature < 36'"
        )
    op = m.group("op").lower()
    op = _WORD_OPS.get(op, op)
    value = m.group("value").strip().strip("'\"")
    if op in ("<", "<=", ">", ">=") and _number(value) is None:
        raise ConditionError(f"{op} needs a number, not {value!r}")
    return Condition(m.group("entity").lower(), (m.group("attr") or None), op, value)


def to_json(cond: Condition) -> dict[str, Any]:
    return {"entity_id": cond.entity_id, "attribute": cond.attribute, "op": cond.op, "value": cond.value}


def from_json(data: Mapping[str, Any]) -> Condition:
    return Condition(data["entity_id"], data.get("attribute"), data["op"], str(data["value"]))
