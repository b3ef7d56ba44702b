"""Cypher for the product factory (package `finance.products`): versions of a product
definition with their life cycle. A version is a `ProductVersion` node keyed
``product:<product_id>@<version>`` holding the product as JSON; its content never changes.
The statements are those of every versioned definition (`graph.queries.versions`)."""

from __future__ import annotations

from graph.model import Label, ProductVersionStatus
from graph.queries.versions import Versions

PRODUCT_VERSIONS = Versions(Label.PRODUCT_VERSION, "product_id", "product_version", "product:")

__all__ = ["PRODUCT_VERSIONS", "ProductVersionStatus"]
