"""The product factory: products as versioned data, edited through the life cycle of rule
sets (draft, publish by someone other than the author with an effective time, retire).

A version is a `ProductVersion` node ``product:<id>@<n>`` holding the product as JSON, checked
by the `Product` model when drafted (a refused content stores nothing). The YAML definitions
shipped in this folder are the first versions, ``product:<id>@shipped``: a product's shipped
definition is in force until a version of it is published. A draft may name a new product id:
a product configured, not coded.

The product in force at a time is the newest published version with an effective time not
after it (and not retired by then), else the shipped one. Applications and financings record
the version that decided and priced them (``product_version``); later stages read that one
(`recorded`), so a new version never reprices a past financing.

Owners: several funders share the platform. The shipped products and those the platform's staff
configure are the platform's catalogue, offered by every funder; a funder's own staff configure
products of its own (the product belongs to whoever drafted its first version), which only that
funder sees, offers and edits (`visible`). Another funder's product reads as unknown.

Cache: the time line of published versions is read once and kept per database in this
process; publishing or retiring here clears it, and it is read again after `CACHE_TTL` so that
another process's publication (or a database cleared under it) is seen within that time. A
single process sees its own changes at once; several API processes see each other's within
`CACHE_TTL`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction
from pydantic import ValidationError

from chainlens.versioning import checker_problem, content_hash, effective_problem
from finance.errors import FinanceError, Forbidden, InvalidState, NotFound
from finance.products import SHIPPED, Product, load_products, shipped_label
from graph.model import DEFAULT_FUNDER, ProductVersionStatus
from graph.queries.products import PRODUCT_VERSIONS as q
from graph.queries.products import owner_tx
from graph.values import native

CACHE_TTL = 30.0  # seconds: how soon another process's publication is seen here
_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


class ProductInvalid(FinanceError):
    """A product content the `Product` model refuses; every problem is in ``problems``."""

    http_status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the product is refused: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ProductVersion:
    id: str  # product:<product_id>@<version>
    product_id: str
    version: int
    status: str
    content: str  # the product as canonical JSON
    content_hash: str
    note: str
    author: str
    created_at: datetime
    publisher: str | None
    published_at: datetime | None
    effective_at: datetime | None
    retired_by: str | None
    retired_at: datetime | None
    funder_id: str | None = None  # the funder whose product it is; None: the platform's

    @property
    def product(self) -> Product:
        return _product_of(self.id, self.content)


def _version(row: Mapping[str, Any]) -> ProductVersion:
    names = {f.name for f in fields(ProductVersion)}
    got = {k: native(row.get(k)) for k in names}
    got["note"] = got["note"] or ""
    return ProductVersion(**got)


def _now() -> datetime:
    return datetime.now(UTC)


def owner(funder_id: str | None) -> str | None:
    """The owner a user's products get: its funder, or None (the platform's catalogue) for
    the platform's own staff (unbound, or the default funder's)."""
    return None if funder_id in (None, DEFAULT_FUNDER) else funder_id


def visible(product_owner: str | None, funder: str | None) -> bool:
    """Whether ``funder``'s users see a product of ``product_owner`` (funder None: every
    funder's, as an unbound admin reads)."""
    return funder is None or product_owner is None or product_owner == funder


def _whose(product_owner: str | None) -> str:
    return "the platform's" if product_owner is None else f"funder {product_owner}'s"


def _problems(e: ValidationError) -> list[str]:
    out = []
    for err in e.errors():
        where = ".".join(str(x) for x in err["loc"]) or "product"
        out.append(f"{where}: {err['msg']}")
    return out


def parse(content: str | Mapping[str, Any]) -> Product:
    """The product a content defines (JSON text or an object), or `ProductInvalid` listing
    every problem: what the `Product` model refuses (an unknown field or day count, a negative
    advance rate...), an id that is not lower-case letters, digits and _, and eligibility
    rules naming a fact the policy does not know."""
    from finance.policy import EnterpriseFacts  # finance.policy imports this package

    data: Any = content
    if isinstance(content, str):
        try:
            data = json.loads(content)
        except ValueError as e:
            raise ProductInvalid([f"the content is not JSON: {e}"]) from e
    if not isinstance(data, Mapping):
        raise ProductInvalid(["the content is a JSON object with the product's fields"])
    problems: list[str] = []
    if "version" in data:
        problems.append("version: set by the product factory, not by the content")
    pid = data.get("id")
    if isinstance(pid, str) and not _ID.fullmatch(pid):
        problems.append(f"id: lower-case letters, digits and _ (at most 64), got {pid[:70]!r}")
    product: Product | None = None
    try:
        product = Product.model_validate({k: v for k, v in data.items() if k != "version"})
    except ValidationError as e:
        problems.extend(_problems(e))
    if product is not None:
        known = {f.name for f in fields(EnterpriseFacts)} | {"in_guarantee_circle"}
        for i, rule in enumerate(product.eligibility):
            if rule.fact not in known:
                problems.append(f"eligibility.{i}.fact: no fact {rule.fact!r} is known")
    if problems or product is None:
        raise ProductInvalid(problems)
    return product


def canonical(product: Product) -> str:
    """A product's content as stored: its fields as JSON with sorted keys."""
    return json.dumps(product.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


def _product_of(version_id: str, content: str) -> Product:
    return Product.model_validate_json(content).model_copy(update={"version": version_id})


# --------------------------------------------------------------------------------------
# The life cycle
# --------------------------------------------------------------------------------------


def _run_write(driver: Driver, database: str, work: Any) -> Any:
    with driver.session(database=database) as s:
        return s.execute_write(work)


def draft(
    driver: Driver, database: str, content: str | Mapping[str, Any], author: str, note: str = "",
    funder_id: str | None = None,
) -> ProductVersion:  # fmt: skip
    """Store a new version of the product ``content`` defines (an existing id or a new one)
    as a draft of ``funder_id``'s (`owner`); a refused content raises `ProductInvalid` and
    nothing is stored. A product of another owner is refused (`Forbidden`): a new product id
    is its drafter's, a shipped one the platform's."""
    product = parse(content)
    text = canonical(product)
    mine = owner(funder_id)
    props = {
        "status": ProductVersionStatus.DRAFT.value, "content": text, "author": author,
        "content_hash": content_hash(text), "note": note, "created_at": _now(),
    }  # fmt: skip
    if mine is not None:
        props["funder_id"] = mine

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        stored, theirs = owner_tx(tx, product.id)
        if product.id in load_products():
            stored, theirs = True, None
        if stored and theirs != mine:
            raise Forbidden(f"product {product.id} is {_whose(theirs)}: only its owner's staff "
                            "draft versions of it")  # fmt: skip
        return q.create_draft(tx, product.id, props)

    return _version(_run_write(driver, database, work))


def get(driver: Driver, database: str, id: str, funder: str | None = None) -> ProductVersion:
    """A stored version that ``funder``'s users see (another funder's is unknown)."""
    row = q.get(driver, database, id)
    if row is None or not visible(row.get("funder_id"), funder):
        raise NotFound(f"no product version {id!r}")
    return _version(row)


def list_versions(
    driver: Driver, database: str, product_id: str | None = None, funder: str | None = None
) -> list[ProductVersion]:
    """The stored versions (of one product if given) that ``funder``'s users see, by
    product, newest first."""
    return [_version(r) for r in q.list_versions(driver, database, product_id)
            if visible(r.get("funder_id"), funder)]  # fmt: skip


def _own(row: Mapping[str, Any] | None, id: str, funder_id: str | None) -> Mapping[str, Any]:
    """The locked version ``row`` when the caller's funder owns it; another owner's is
    unknown to it."""
    if row is None or row.get("funder_id") != owner(funder_id):
        raise NotFound(f"no product version {id!r}")
    return row


def publish(
    driver: Driver, database: str, id: str, publisher: str, effective_at: datetime | None = None,
    funder_id: str | None = None,
) -> ProductVersion:  # fmt: skip
    """Publish a draft of the publisher's funder (`owner`): never by its author
    (maker-checker), in force from ``effective_at`` (now when not given; never in the
    past)."""
    now = _now()
    at = effective_at or now
    problem = effective_problem(at, now)
    if problem is not None:
        raise InvalidState(problem)

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        row = _own(q.lock(tx, id), id, funder_id)
        if row["status"] != ProductVersionStatus.DRAFT:
            raise InvalidState(f"product version {id} is {row['status']}, not a draft")
        refused = checker_problem(row["author"], publisher, f"product version {id}")
        if refused is not None:
            raise Forbidden(refused)
        parse(row["content"])  # checked again: this process must accept what it will use
        return q.update(tx, id, {
            "status": ProductVersionStatus.PUBLISHED.value, "publisher": publisher,
            "published_at": now, "effective_at": at,
        })  # fmt: skip

    try:
        return _version(_run_write(driver, database, work))
    finally:
        clear_cache(database)


def retire(
    driver: Driver, database: str, id: str, by: str, note: str = "",
    funder_id: str | None = None,
) -> ProductVersion:  # fmt: skip
    """Take a published version of the caller's funder (`owner`) out of force now; the
    previous one in force takes over (the shipped definition when none is). Financings it
    priced keep it."""
    now = _now()

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        row = _own(q.lock(tx, id), id, funder_id)
        if row["status"] != ProductVersionStatus.PUBLISHED:
            raise InvalidState(f"product version {id} is {row['status']}, not published")
        return q.update(tx, id, {
            "status": ProductVersionStatus.RETIRED.value, "retired_by": by, "retired_at": now,
            "retire_note": note,
        })  # fmt: skip

    try:
        return _version(_run_write(driver, database, work))
    finally:
        clear_cache(database)


# --------------------------------------------------------------------------------------
# Reading: the version in force, a recorded version, the catalogue
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Published:
    id: str
    product_id: str
    version: int
    effective_at: datetime
    retired_at: datetime | None
    product: Product
    funder_id: str | None

    def in_force(self, at: datetime) -> bool:
        return self.effective_at <= at and (self.retired_at is None or self.retired_at > at)


_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, list[_Published]]]] = {}


def clear_cache(database: str | None = None) -> None:
    """Forget the time line read from ``database`` (every database when None)."""
    with _lock:
        if database is None:
            _cache.clear()
        else:
            _cache.pop(database, None)


def _timeline(driver: Driver, database: str, fresh: bool = False) -> dict[str, list[_Published]]:
    with _lock:
        got = _cache.get(database)
    if got is not None and not fresh and time.monotonic() - got[0] < CACHE_TTL:
        return got[1]
    by_product: dict[str, list[_Published]] = {}
    for row in q.published(driver, database):
        v = _version(row)
        assert v.effective_at is not None
        by_product.setdefault(v.product_id, []).append(_Published(
            v.id, v.product_id, v.version, v.effective_at, v.retired_at,
            _product_of(v.id, v.content), v.funder_id,
        ))  # fmt: skip
    with _lock:
        _cache[database] = (time.monotonic(), by_product)
    return by_product


def _pick(
    versions: list[_Published], at: datetime, funder: str | None = None
) -> _Published | None:
    live = [v for v in versions if v.in_force(at) and visible(v.funder_id, funder)]
    return max(live, key=lambda v: (v.effective_at, v.version)) if live else None


def in_force(
    driver: Driver, database: str, product_id: str, at: datetime | None = None,
    funder: str | None = None,
) -> Product:  # fmt: skip
    """The product ``product_id`` in force at ``at`` (now): the newest published version
    effective by then, else the shipped definition. Its ``version`` names which. With
    ``funder``, a product of another funder is unknown (`NotFound`): it is not offered."""
    got = _pick(_timeline(driver, database).get(product_id, []), at or _now(), funder)
    if got is not None:
        return got.product
    try:
        return load_products()[product_id]
    except KeyError as e:
        raise NotFound(f"no product {product_id!r}") from e


def catalogue(
    driver: Driver, database: str, at: datetime | None = None, funder: str | None = None
) -> dict[str, Product]:
    """Every product in force at ``at`` (now), by id: the shipped ones and those configured
    here, each at its version in force; with ``funder``, the platform's and that funder's
    own. A configured product none of whose versions is in force is not offered."""
    when = at or _now()
    out = dict(load_products())
    for product_id, versions in _timeline(driver, database).items():
        got = _pick(versions, when, funder)
        if got is not None:
            out[product_id] = got.product
    return dict(sorted(out.items()))


def recorded(driver: Driver, database: str, product_id: str, version: str | None) -> Product:
    """The product version an application or financing recorded; the shipped definition
    when it recorded none (made before the product factory) or the shipped one."""
    if not version or version == shipped_label(product_id):
        try:
            return load_products()[product_id]
        except KeyError as e:
            raise NotFound(f"no product {product_id!r}") from e
    for fresh in (False, True):  # published since the time line was read: read it again
        for v in _timeline(driver, database, fresh).get(product_id, []):
            if v.id == version:
                return v.product
    row = q.get(driver, database, version)  # a draft is never recorded; read it all the same
    if row is None:
        raise NotFound(f"no product version {version!r}")
    return _product_of(version, str(row["content"]))


def recorded_tx(tx: ManagedTransaction, product_id: str, version: str | None) -> Product:
    """`recorded`, read in a transaction (where no driver is at hand)."""
    if not version or version == shipped_label(product_id):
        try:
            return load_products()[product_id]
        except KeyError as e:
            raise NotFound(f"no product {product_id!r}") from e
    row = q.get_tx(tx, version)
    if row is None:
        raise NotFound(f"no product version {version!r}")
    return _product_of(version, str(row["content"]))


__all__ = [
    "CACHE_TTL", "SHIPPED", "ProductInvalid", "ProductVersion", "catalogue", "clear_cache",
    "draft", "get", "in_force", "list_versions", "owner", "parse", "publish", "recorded",
    "recorded_tx", "retire", "visible",
]  # fmt: skip
