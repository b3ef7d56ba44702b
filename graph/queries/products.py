"""Cypher for the product factory (package `finance.products`): versions of a product
definition with their life cycle. A version is a `ProductVersion` node keyed
``product:<product_id>@<version>`` holding the product as JSON; its content never changes.
The statements are those of every versioned definition (`graph.queries.versions`)."""

from __future__ import annotations

from neo4j import ManagedTransaction

from graph.model import Label, ProductVersionStatus
from graph.queries.versions import Versions

PRODUCT_VERSIONS = Versions(Label.PRODUCT_VERSION, "product_id", "product_version", "product:")

# Who owns a product: the funder that drafted its first version (none: the platform's).
_OWNER = f"""
MATCH (r:{Label.PRODUCT_VERSION.value} {{product_id: $product_id}})
RETURN r.funder_id AS funder_id ORDER BY r.version LIMIT 1
"""


def owner_tx(tx: ManagedTransaction, product_id: str) -> tuple[bool, str | None]:
    """(whether any version of the product is stored, the funder that owns it)."""
    rec = tx.run(_OWNER, product_id=product_id).single()
    return (False, None) if rec is None else (True, rec["funder_id"])


__all__ = ["PRODUCT_VERSIONS", "ProductVersionStatus", "owner_tx"]
