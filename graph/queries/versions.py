"""Cypher for versioned definitions (rule sets, products): numbered versions of one key whose
content never changes, drafted, published with an effective time, retired.

One `Versions` per label builds the same named, parameterised statements for each: a version
is a node keyed ``<prefix><key>@<version>``; the version in force at a time is the published
one with the latest effective time not after it, unless it was retired by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import Label
from graph.model import declared as _declared

Row = dict[str, Any]


@dataclass(frozen=True)
class Versions:
    """The statements for versions of ``label`` grouped by property ``key`` (a rule set's
    ``name``, a product's ``product_id``), returned as a map named ``alias``."""

    label: Label
    key: str
    alias: str
    prefix: str = ""

    # The key is locked through its latest version (`_v`) so that two drafts of one key get
    # consecutive versions; the uniqueness constraint on `id` backs it.
    @property
    def create_draft_query(self) -> str:
        n, k = self.label, self.key
        return f"""
OPTIONAL MATCH (prev:{n} {{{k}: $key}})
WITH prev ORDER BY prev.version DESC LIMIT 1
FOREACH (_ IN CASE WHEN prev IS NULL THEN [] ELSE [1] END | SET prev._v = coalesce(prev._v, 0) + 1)
WITH coalesce(prev.version, 0) + 1 AS v
CREATE (r:{n} {{id: $prefix + $key + '@' + toString(v)}})
SET r += $props, r.{k} = $key, r.version = v
RETURN r {{.*}} AS {self.alias}
"""

    @property
    def get_query(self) -> str:
        return f"MATCH (r:{self.label} {{id: $id}}) RETURN r {{.*}} AS {self.alias}"

    @property
    def lock_query(self) -> str:
        return f"""
MATCH (r:{self.label} {{id: $id}})
SET r._v = coalesce(r._v, 0) + 1
RETURN r {{.*}} AS {self.alias}
"""

    @property
    def update_query(self) -> str:
        return f"MATCH (r:{self.label} {{id: $id}}) SET r += $props RETURN r {{.*}} AS {self.alias}"

    @property
    def list_query(self) -> str:
        return f"""
MATCH (r:{self.label})
WHERE $key IS NULL OR r.{self.key} = $key
RETURN r {{.*}} AS {self.alias} ORDER BY r.{self.key}, r.version DESC
"""

    @property
    def in_force_query(self) -> str:
        return f"""
MATCH (r:{self.label} {{{self.key}: $key}})
WHERE r.published_at IS NOT NULL AND r.effective_at <= $at
  AND (r.retired_at IS NULL OR r.retired_at > $at)
RETURN r {{.*}} AS {self.alias} ORDER BY r.effective_at DESC, r.version DESC LIMIT 1
"""

    @property
    def published_query(self) -> str:
        """Every version ever published (retired ones too): the time line of what was in
        force, from which a reader picks the version in force at any time."""
        return f"""
MATCH (r:{self.label})
WHERE r.published_at IS NOT NULL
RETURN r {{.*}} AS {self.alias} ORDER BY r.{self.key}, r.effective_at, r.version
"""

    def create_draft(self, tx: ManagedTransaction, key: str, props: Row) -> Row:
        rec = tx.run(
            self.create_draft_query, key=key, prefix=self.prefix,
            props=_declared(self.label, props),
        ).single()  # fmt: skip
        assert rec is not None
        return dict(rec[self.alias])

    def get(self, driver: Driver, database: str, id: str) -> Row | None:
        records, _, _ = driver.execute_query(
            self.get_query, id=id, database_=database, routing_=RoutingControl.READ
        )
        return dict(records[0][self.alias]) if records else None

    def get_tx(self, tx: ManagedTransaction, id: str) -> Row | None:
        rec = tx.run(self.get_query, id=id).single()
        return None if rec is None else dict(rec[self.alias])

    def lock(self, tx: ManagedTransaction, id: str) -> Row | None:
        rec = tx.run(self.lock_query, id=id).single()
        return None if rec is None else dict(rec[self.alias])

    def update(self, tx: ManagedTransaction, id: str, props: Row) -> Row:
        rec = tx.run(self.update_query, id=id, props=_declared(self.label, props)).single()
        assert rec is not None
        return dict(rec[self.alias])

    def list_versions(self, driver: Driver, database: str, key: str | None = None) -> list[Row]:
        records, _, _ = driver.execute_query(
            self.list_query, key=key, database_=database, routing_=RoutingControl.READ
        )
        return [dict(r[self.alias]) for r in records]

    def in_force(self, driver: Driver, database: str, key: str, at: datetime) -> Row | None:
        records, _, _ = driver.execute_query(
            self.in_force_query, key=key, at=at, database_=database,
            routing_=RoutingControl.READ,
        )  # fmt: skip
        return dict(records[0][self.alias]) if records else None

    def published(self, driver: Driver, database: str) -> list[Row]:
        records, _, _ = driver.execute_query(
            self.published_query, database_=database, routing_=RoutingControl.READ
        )
        return [dict(r[self.alias]) for r in records]
