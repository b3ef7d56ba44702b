"""IoT-tracked collateral: an asset's derived state, its readings history, alerts (filter,
page, acknowledge) and the `alertRaised` subscription. Resolvers translate the dataclasses
of `sensors.service`; the subscription listens on the process's `AlertHub`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.pagination import PageInfo
from api.graphql.permissions import READERS, requires
from api.graphql.scalars import BigInt
from api.security import Role
from finance.errors import Forbidden, NotFound
from graph.funders import alert_books
from graph.model import DEFAULT_FUNDER
from sensors import service
from sensors.intake import IntakeConfig
from sensors.model import AlertRecord

ACKNOWLEDGERS = (Role.ANALYST, Role.CREDIT_OFFICER)


@strawberry.type(description="When a sensor of the asset last reported.")
class SensorFreshness:
    sensor_id: str
    kind: str | None
    last_seen: datetime | None


@strawberry.type(description="An asset's collateral state as the sensors see it now.")
class CollateralState:
    asset_id: str
    kind: str | None
    status: str | None
    pledged_quantity: Decimal | None
    unit: str | None
    measured_quantity: Decimal | None = strawberry.field(
        description="Quantity in the asset's unit from head counts or scales."
    )
    head_count: int | None
    weight_kg: float | None
    lat: float | None
    lon: float | None
    inside_geofence: bool | None
    temperature: float | None
    humidity: float | None
    silent_sensors: list[str]
    state_at: datetime | None = strawberry.field(description="Event time of the derived state.")
    value_minor: BigInt | None
    currency: str | None
    valued_at: datetime | None
    sensors: list[SensorFreshness]

    @classmethod
    def from_domain(cls, s: service.CollateralState) -> CollateralState:
        return cls(
            asset_id=s.asset_id,
            kind=s.kind,
            status=s.status,
            pledged_quantity=s.pledged_quantity,
            unit=s.unit,
            measured_quantity=s.measured_quantity,
            head_count=s.head_count,
            weight_kg=s.weight_kg,
            lat=s.lat,
            lon=s.lon,
            inside_geofence=s.inside_geofence,
            temperature=s.temperature,
            humidity=s.humidity,
            silent_sensors=list(s.silent_sensors),
            state_at=s.state_at,
            value_minor=BigInt(s.value_minor) if s.value_minor is not None else None,
            currency=s.currency,
            valued_at=s.valued_at,
            sensors=[
                SensorFreshness(sensor_id=x.sensor_id, kind=x.kind, last_seen=x.last_seen)
                for x in s.sensors
            ],
        )


@strawberry.type(description="One bucket of one sensor's readings (a position: mean = latitude, "
                 "mean2 = longitude).")  # fmt: skip
class ReadingPoint:
    sensor_id: str
    kind: str
    bucket_start: datetime
    count: int
    mean: float
    min: float
    max: float
    last: float
    mean2: float | None


@strawberry.type(description="An incident about an asset, its sensor, owner and financings.")
class Alert:
    id: strawberry.ID
    kind: str
    severity: str
    status: str = strawberry.field(description="open or acknowledged.")
    asset_id: str | None
    sensor_id: str | None
    message: str
    evidence: JSON
    first_evidence_at: datetime
    raised_at: datetime
    cleared_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledged_note: str | None
    enterprise_ids: list[str]
    financing_ids: list[str]

    @classmethod
    def from_domain(cls, a: AlertRecord) -> Alert:
        return cls(
            id=strawberry.ID(a.id),
            kind=a.kind,
            severity=a.severity,
            status=a.status,
            asset_id=a.asset_id,
            sensor_id=a.sensor_id,
            message=a.message,
            evidence=cast(JSON, a.evidence),
            first_evidence_at=a.first_evidence_at,
            raised_at=a.raised_at,
            cleared_at=a.cleared_at,
            acknowledged_by=a.acknowledged_by,
            acknowledged_at=a.acknowledged_at,
            acknowledged_note=a.acknowledged_note,
            enterprise_ids=list(a.enterprise_ids),
            financing_ids=list(a.financing_ids),
        )


@strawberry.type
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo


@strawberry.type
class SensorsQuery:
    @strawberry.field(
        extensions=requires(*READERS), description="An asset's current collateral state."
    )
    async def asset_state(self, info: Info[Context, None], asset_id: str) -> CollateralState:
        found = await info.context.call(service.asset_state, asset_id)
        return CollateralState.from_domain(found)

    @strawberry.field(
        extensions=requires(*READERS),
        description="Readings of the asset's sensors in [since, until), one point per sensor "
        "and bucket (at most 5000 points).",
    )
    async def asset_readings(
        self,
        info: Info[Context, None],
        asset_id: str,
        since: datetime,
        until: datetime,
        bucket: Annotated[int, strawberry.argument(description="Bucket width in seconds.")],
        kind: Annotated[
            str | None, strawberry.argument(description="Reading kind, e.g. weight.")
        ] = None,
    ) -> list[ReadingPoint]:
        data_dir = IntakeConfig.from_settings(info.context.settings).data_dir
        points: list[service.HistoryPoint] = await info.context.call(
            service.asset_history,
            data_dir,
            asset_id,
            since,
            until,
            timedelta(seconds=bucket),
            kind,
        )
        return [
            ReadingPoint(
                sensor_id=p.sensor_id,
                kind=p.kind,
                bucket_start=p.bucket_start,
                count=p.count,
                mean=p.mean,
                min=p.min,
                max=p.max,
                last=p.last,
                mean2=p.mean2,
            )
            for p in points
        ]

    @strawberry.field(
        extensions=requires(*READERS),
        description="Alerts, newest first, filtered; `first` at most 200.",
    )
    async def alerts(
        self,
        info: Info[Context, None],
        status: str | None = None,
        severity: str | None = None,
        kind: str | None = None,
        asset_id: str | None = None,
        enterprise_id: str | None = None,
        financing_id: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AlertConnection:
        page: service.AlertPage = await info.context.call(
            service.alerts_page,
            first=first,
            after=after,
            status=status,
            severity=severity,
            kind=kind,
            asset_id=asset_id,
            enterprise_id=enterprise_id,
            financing_id=financing_id,
            funder=info.context.user.book,  # its funder's alerts and the shared chain's
        )
        edges = [
            AlertEdge(cursor=c, node=Alert.from_domain(a))
            for a, c in zip(page.alerts, page.cursors, strict=True)
        ]
        return AlertConnection(
            edges=edges,
            page_info=PageInfo(
                end_cursor=page.cursors[-1] if page.cursors else None,
                has_next_page=page.has_next_page,
            ),
        )


@strawberry.type
class SensorsMutation:
    @strawberry.mutation(
        extensions=requires(*ACKNOWLEDGERS),
        description="Take an alert: it stops being open; acknowledging twice keeps the first.",
    )
    async def acknowledge_alert(
        self, info: Info[Context, None], id: strawberry.ID, note: str | None = None
    ) -> Alert:
        user = info.context.user
        book = user.book
        if book is not None:
            books = await info.context.call(alert_books, str(id))
            if books is None or (books and book not in books):
                raise NotFound(f"no alert {str(id)!r}")  # another funder's: as if unknown
            if not books and book != DEFAULT_FUNDER:
                raise Forbidden("an alert about the shared chain (no financing or voucher) "
                                "is acknowledged by the platform's staff")  # fmt: skip
        found = await info.context.call(
            service.acknowledge_alert, str(id), user.username, note=note
        )
        return Alert.from_domain(found)


@strawberry.type
class SensorsSubscription:
    @strawberry.subscription(
        extensions=requires(*READERS),
        description="Alerts as they are raised (graphql-transport-ws; the token goes in the "
        'connection_init payload as {"Authorization": "Bearer ..."}).',
    )
    async def alert_raised(
        self,
        info: Info[Context, None],
        severity: str | None = None,
        kind: str | None = None,
        asset_id: str | None = None,
    ) -> AsyncGenerator[Alert, None]:
        request: Any = info.context.request
        runtime = getattr(getattr(getattr(request, "app", None), "state", None), "sensors", None)
        source: AsyncGenerator[AlertRecord, None]
        if runtime is not None:
            source = runtime.hub.subscribe()
        else:
            ctx = info.context
            source = cast(
                AsyncGenerator[AlertRecord, None],
                service.watch_alerts(
                    ctx.driver, ctx.database, poll_s=ctx.settings.sensors_alert_poll_s
                ),
            )
        book = info.context.user.book
        try:
            async for alert in source:
                if severity is not None and alert.severity != severity:
                    continue
                if kind is not None and alert.kind != kind:
                    continue
                if asset_id is not None and alert.asset_id != asset_id:
                    continue
                if book is not None:  # a funder's user: its funder's and the shared chain's
                    books = await info.context.call(alert_books, alert.id)
                    if books and book not in books:
                        continue
                yield Alert.from_domain(alert)
        finally:
            await source.aclose()
