"""``claw.skill.State`` on claw.db: each skill's small JSON records by key, one row each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from claw.store.db import Database, utcnow
from claw.store.schema import skill_state


class SkillState:
    """One skill's records; every call is one short transaction on the DB thread."""

    def __init__(self, db: Database, skill: str):
        self.db = db
        self.skill = skill

    async def get(self, key: str, default: Any = None) -> Any:
        query = select(skill_state.c.value).where(skill_state.c.skill == self.skill, skill_state.c.key == key)
        row = await self.db.tx(lambda c: c.execute(query).first())
        return default if row is None else row.value

    async def put(self, key: str, value: Any) -> None:
        def write(conn: Connection) -> None:
            row = {"value": value, "updated_at": utcnow()}
            mine = (skill_state.c.skill == self.skill) & (skill_state.c.key == key)
            if conn.execute(update(skill_state).where(mine).values(**row)).rowcount == 0:
                conn.execute(insert(skill_state).values(skill=self.skill, key=key, **row))

        await self.db.tx(write)
