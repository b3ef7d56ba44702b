"""Related parties: firms linked to an enterprise by a common controller, a shared director
or legal representative, or a shared address or phone, each link explained."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from neo4j import Driver

from graph.analytics import ownership
from graph.analytics._common import check_range, read, require_enterprise
from graph.queries import analytics as q

MAX_LINKS_PER_KIND = 500
# Roles that make two firms related when one person holds them in both.
RELATING_ROLES = ("legal_representative", "director", "executive")


class LinkKind(StrEnum):
    COMMON_CONTROLLER = "common_controller"
    SHARED_PERSON = "shared_person"
    SHARED_ADDRESS = "shared_address"
    SHARED_PHONE = "shared_phone"


@dataclass(frozen=True, slots=True)
class RelatedLink:
    kind: LinkKind
    via_id: str
    via_name: str | None
    explanation: str


@dataclass(slots=True)
class RelatedParty:
    id: str
    name: str | None
    links: list[RelatedLink] = field(default_factory=list)

    @property
    def kinds(self) -> list[LinkKind]:
        return sorted({link.kind for link in self.links})


@dataclass(frozen=True, slots=True)
class RelatedParties:
    enterprise_id: str
    parties: list[RelatedParty]
    """Most links first, then by id."""
    truncated: bool


def related_parties(
    driver: Driver, database: str, enterprise_id: str, max_per_kind: int = 200
) -> RelatedParties:
    """Every firm related to `enterprise_id`, with the links that relate them."""
    check_range("max_per_kind", max_per_kind, 1, MAX_LINKS_PER_KIND)
    name = require_enterprise(driver, database, enterprise_id)
    parties: dict[str, RelatedParty] = {}
    truncated = False

    def add(firm_id: str, firm_name: str | None, link: RelatedLink) -> None:
        parties.setdefault(firm_id, RelatedParty(firm_id, firm_name)).links.append(link)

    ctrl = ownership.actual_controller(driver, database, enterprise_id).controller
    if ctrl is not None:
        group = ownership.controlled_group(
            driver, database, ctrl.holder_id, ctrl.holder_kind, max_members=max_per_kind + 1
        )
        truncated |= group.truncated
        members = [(m.id, m.name) for m in group.members]
        if ctrl.holder_kind is ownership.HolderKind.ENTERPRISE:
            members.append((ctrl.holder_id, ctrl.holder_name))
        in_group = any(m[0] == enterprise_id for m in members)
        for firm_id, firm_name in members:
            if firm_id == enterprise_id or not in_group:
                continue
            add(firm_id, firm_name, RelatedLink(
                LinkKind.COMMON_CONTROLLER, ctrl.holder_id, ctrl.holder_name,
                f"both controlled by {ctrl.holder_name or ctrl.holder_id}",
            ))  # fmt: skip

    rows = read(driver, database, q.SHARED_PEOPLE, id=enterprise_id, kinds=list(RELATING_ROLES),
                limit=max_per_kind + 1)  # fmt: skip
    truncated |= len(rows) > max_per_kind
    for r in rows[:max_per_kind]:
        who = r["via_name"] or r["via_id"]
        add(r["id"], r["name"], RelatedLink(
            LinkKind.SHARED_PERSON, r["via_id"], r["via_name"],
            f"{who} is {r['kind_here']} of {name or enterprise_id} and {r['kind_there']} "
            f"of {r['name'] or r['id']}",
        ))  # fmt: skip

    rows = read(driver, database, q.SHARED_CONTACTS, id=enterprise_id, limit=max_per_kind + 1)
    truncated |= len(rows) > max_per_kind
    for r in rows[:max_per_kind]:
        kind = LinkKind.SHARED_ADDRESS if r["is_address"] else LinkKind.SHARED_PHONE
        what = "address" if r["is_address"] else "phone"
        add(r["id"], r["name"], RelatedLink(
            kind, r["via_id"], r["via_name"], f"same {what}: {r['via_name'] or r['via_id']}",
        ))  # fmt: skip

    ranked = sorted(parties.values(), key=lambda p: (-len(p.links), p.id))
    return RelatedParties(enterprise_id, ranked, truncated)
