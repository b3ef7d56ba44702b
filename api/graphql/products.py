"""The product factory over GraphQL: versions of product definitions with the life cycle of
rule sets — draft (a new version of a product, or a new product), publish by a second credit
officer with an effective time, retire (the previous version in force takes over)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import requires
from api.security import Role
from finance.products import factory as pf

# As rule sets: credit officers draft, publish and retire; the credit side reads them.
PRODUCT_READERS = (Role.CREDIT_OFFICER, Role.ANALYST, Role.RELATIONSHIP_MANAGER)
PRODUCT_EDITORS = (Role.CREDIT_OFFICER,)


@strawberry.type(description="A version of a product definition and where it is in its "
                 "life cycle (docs/finance.md#the-product-factory).")  # fmt: skip
class ProductVersion:
    id: strawberry.ID = strawberry.field(description="product:<productId>@<version>.")
    product_id: str
    version: int
    status: str = strawberry.field(description="draft, published or retired.")
    content: JSON = strawberry.field(description="The product definition, as a JSON object.")
    content_hash: str = strawberry.field(description="SHA-256 of the stored content.")
    note: str
    author: str
    created_at: datetime
    publisher: str | None
    published_at: datetime | None
    effective_at: datetime | None
    retired_by: str | None
    retired_at: datetime | None
    funder_id: str | None = strawberry.field(
        description="The funder whose own product it is; null: the platform's catalogue, "
                    "offered by every funder.")  # fmt: skip

    @classmethod
    def of(cls, v: pf.ProductVersion) -> ProductVersion:
        return cls(
            id=strawberry.ID(v.id), product_id=v.product_id, version=v.version,
            status=v.status, content=json.loads(v.content), content_hash=v.content_hash,
            note=v.note, author=v.author, created_at=v.created_at, publisher=v.publisher,
            published_at=v.published_at, effective_at=v.effective_at,
            retired_by=v.retired_by, retired_at=v.retired_at, funder_id=v.funder_id,
        )  # fmt: skip


def _content(content: JSON) -> str | dict[str, object]:
    """A product sent as a JSON object, or as JSON text in a string."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content
    raise pf.ProductInvalid(["the content is a JSON object with the product's fields"])


@strawberry.type
class ProductsQuery:
    @strawberry.field(extensions=requires(*PRODUCT_READERS),
                      description="Stored product versions (of one product if given), by "
                      "product, newest first: the platform's and the caller's funder's own. "
                      "The shipped definitions are not listed: financeProducts shows what is "
                      "in force.")  # fmt: skip
    async def product_versions(
        self, info: Info[Context, None], product_id: str | None = None
    ) -> list[ProductVersion]:
        found = await info.context.call(pf.list_versions, product_id, info.context.user.book)
        return [ProductVersion.of(v) for v in cast(list[pf.ProductVersion], found)]

    @strawberry.field(extensions=requires(*PRODUCT_READERS),
                      description="One stored product version (another funder's own product "
                      "is NOT_FOUND).")  # fmt: skip
    async def product_version(self, info: Info[Context, None], id: strawberry.ID) -> ProductVersion:
        return ProductVersion.of(cast(pf.ProductVersion, await info.context.call(
            pf.get, str(id), info.context.user.book)))  # fmt: skip


@strawberry.type
class ProductsMutation:
    @strawberry.mutation(extensions=requires(*PRODUCT_EDITORS),
                         description="Store a product definition (a JSON object with every "
                         "field of a product; its id names an existing product or a new one) "
                         "as the next draft version of that product; refused with every "
                         "problem listed (UNPROCESSABLE) when it is not a valid product, and "
                         "nothing is stored. A funder's own staff draft its own products (a "
                         "new id is the drafter's funder's; another owner's is FORBIDDEN); "
                         "the platform's staff the shared catalogue.")  # fmt: skip
    async def draft_product(
        self, info: Info[Context, None], content: JSON, note: str = ""
    ) -> ProductVersion:
        user = info.context.user
        v = await info.context.call(pf.draft, _content(content), user.username, note,
                                    user.funder_id)  # fmt: skip
        return ProductVersion.of(cast(pf.ProductVersion, v))

    @strawberry.mutation(extensions=requires(*PRODUCT_EDITORS),
                         description="Publish a draft product version (not your own), in "
                         "force from effectiveAt (now when omitted; never in the past) for "
                         "new applications; those decided before keep their version.")  # fmt: skip
    async def publish_product(
        self, info: Info[Context, None], id: strawberry.ID, effective_at: datetime | None = None
    ) -> ProductVersion:
        v = await info.context.call(pf.publish, str(id), info.context.user.username,
                                    effective_at, info.context.user.funder_id)  # fmt: skip
        return ProductVersion.of(cast(pf.ProductVersion, v))

    @strawberry.mutation(extensions=requires(*PRODUCT_EDITORS),
                         description="Take a published product version out of force now; the "
                         "previous version in force (or the shipped one) takes over.")  # fmt: skip
    async def retire_product(
        self, info: Info[Context, None], id: strawberry.ID, note: str = ""
    ) -> ProductVersion:
        v = await info.context.call(pf.retire, str(id), info.context.user.username, note,
                                    info.context.user.funder_id)  # fmt: skip
        return ProductVersion.of(cast(pf.ProductVersion, v))
