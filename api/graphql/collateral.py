"""Collateral operations in GraphQL: register a monitored asset and its sensors, set its
geofence and storage limits, issue release orders, revalue it.

Resolvers call `sensors.operations` (which checks everything before it writes) and translate
its dataclasses. Operations roles only: credit officers and admins. Refusals are sensors
errors: BAD_REQUEST (400) for bad input, NOT_FOUND (404) for an unknown enterprise, warehouse,
goods or asset, CONFLICT (409) for a release order on an asset that backs a live financing
(goods are released after repayment) or a registration that contradicts what is registered.
After each write the API's own telemetry intake reloads the device registry before its next
batch, so a new sensor, limit or release order counts from the next reading on; a
revaluation goes through finance's `on_valuation`, like the engine's, and may raise margin
calls.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import requires
from api.graphql.scalars import BigInt
from api.security import Role
from finance.collateral import on_valuation
from sensors import operations as ops
from sensors.model import Geofence as DomainGeofence
from sensors.model import ReleaseOrder as DomainReleaseOrder
from sensors.model import SensorInfo

OPERATORS = (Role.CREDIT_OFFICER,)  # and admins, who pass every check


def _mutation(description: str) -> Any:
    return strawberry.mutation(extensions=requires(*OPERATORS), description=description)


def _registry_changed(info: Info[Context, None]) -> None:
    """Let this process's telemetry intake see the change before its next batch."""
    app = getattr(info.context.request, "app", None)
    runtime = getattr(getattr(app, "state", None), "sensors", None)
    if runtime is not None:
        runtime.registry_changed()


@strawberry.type(description="A circle around a point (an asset must stay inside).")
class Geofence:
    lat: float
    lon: float
    radius_m: float


@strawberry.input(description="A circle: centre latitude and longitude, radius in metres.")
class GeofenceInput:
    lat: float
    lon: float
    radius_m: float


@strawberry.type(description="A monitored asset as registered: terms, links and limits.")
class CollateralAsset:
    id: strawberry.ID
    kind: str
    owner_id: strawberry.ID | None
    goods_id: strawberry.ID | None
    warehouse_id: strawberry.ID | None
    status: str | None
    quantity: Decimal = strawberry.field(description="Pledged quantity, in `unit`.")
    unit: str
    unit_value: BigInt | None = strawberry.field(description="Price of one unit, minor units.")
    currency: str
    value_minor: BigInt | None = strawberry.field(description="The latest valuation.")
    geofence: Geofence | None
    temp_min: float | None
    temp_max: float | None
    humidity_max: float | None
    sensor_ids: list[strawberry.ID]
    financing_ids: list[strawberry.ID] = strawberry.field(
        description="Live financings the asset backs."
    )

    @classmethod
    def from_domain(cls, a: ops.CollateralAsset) -> CollateralAsset:
        i = a.info

        def opt(x: str | None) -> strawberry.ID | None:
            return strawberry.ID(x) if x is not None else None

        fence = i.geofence
        return cls(
            id=strawberry.ID(i.id), kind=i.kind, owner_id=opt(i.owner_id),
            goods_id=opt(i.goods_id), warehouse_id=opt(i.warehouse_id), status=a.status,
            quantity=i.quantity, unit=i.unit,
            unit_value=BigInt(i.unit_value) if i.unit_value is not None else None,
            currency=i.currency,
            value_minor=BigInt(a.value_minor) if a.value_minor is not None else None,
            geofence=Geofence(lat=fence.lat, lon=fence.lon, radius_m=fence.radius_m)
            if fence else None,
            temp_min=i.temp_min, temp_max=i.temp_max, humidity_max=i.humidity_max,
            sensor_ids=[strawberry.ID(s) for s in a.sensor_ids],
            financing_ids=[strawberry.ID(f) for f in i.financing_ids],
        )  # fmt: skip


@strawberry.input(description="An asset to monitor; registering the same terms again is a no-op.")
class RegisterCollateralInput:
    id: strawberry.ID = strawberry.field(
        description="The asset's id (letters, digits, '.', '_', '-'; at most 64)."
    )
    owner_id: strawberry.ID = strawberry.field(description="An existing enterprise.")
    kind: str = strawberry.field(
        description="livestock, inventory, warehouse_receipt or equipment (as in the ingest "
        "format)."
    )
    goods_id: strawberry.ID | None = strawberry.field(default=None, description="Existing goods.")
    warehouse_id: strawberry.ID | None = strawberry.field(
        default=None, description="An existing warehouse."
    )
    quantity: Decimal = strawberry.field(description="Pledged quantity, positive.")
    unit: str = strawberry.field(description="t, kg or g for stock on scales; head for herds.")
    unit_value: BigInt = strawberry.field(description="Price of one unit in minor units.")
    currency: str = "CNY"


@strawberry.type(description="A sensor and what it monitors.")
class Sensor:
    id: strawberry.ID
    kind: str
    asset_id: strawberry.ID | None
    warehouse_id: strawberry.ID | None
    interval_s: int | None

    @classmethod
    def from_domain(cls, s: SensorInfo) -> Sensor:
        return cls(
            id=strawberry.ID(s.id), kind=s.kind.value,
            asset_id=strawberry.ID(s.asset_id) if s.asset_id else None,
            warehouse_id=strawberry.ID(s.warehouse_id) if s.warehouse_id else None,
            interval_s=s.interval_s,
        )  # fmt: skip


@strawberry.input(description="A sensor monitoring an asset; the same terms again is a no-op.")
class RegisterSensorInput:
    id: strawberry.ID = strawberry.field(description="The device id, as in its topic.")
    kind: str = strawberry.field(
        description="rfid_tag, rfid_reader, scale, gps, thermometer, hygrometer or camera_counter."
    )
    asset_id: strawberry.ID = strawberry.field(description="An existing asset.")
    warehouse_id: strawberry.ID | None = strawberry.field(
        default=None, description="Where it is installed; default the asset's warehouse."
    )
    interval_s: int | None = strawberry.field(
        default=None, description="Expected seconds between readings (default per kind)."
    )


@strawberry.type(description="Permission to take a quantity out of pledged stock for a while.")
class ReleaseOrder:
    id: strawberry.ID
    asset_id: strawberry.ID
    quantity: Decimal = strawberry.field(description="In the asset's unit.")
    valid_from: datetime
    valid_to: datetime

    @classmethod
    def from_domain(cls, o: DomainReleaseOrder) -> ReleaseOrder:
        return cls(
            id=strawberry.ID(o.id), asset_id=strawberry.ID(o.asset_id), quantity=o.quantity,
            valid_from=o.valid_from, valid_to=o.valid_to,
        )  # fmt: skip


@strawberry.type(description="A margin call a revaluation raised on a financing.")
class MarginCall:
    alert_id: strawberry.ID
    financing_id: strawberry.ID
    ltv_bps: int | None
    max_ltv_bps: int
    shortfall: BigInt
    message: str


@strawberry.type(description="An asset's new price and value, and the margin calls they raised.")
class Revaluation:
    asset_id: strawberry.ID
    unit_value: BigInt
    quantity: Decimal = strawberry.field(
        description="Measured by the sensors when they can say, else the pledged quantity."
    )
    value_minor: BigInt
    currency: str
    margin_calls: list[MarginCall]


def _id(x: strawberry.ID | None) -> str | None:
    return str(x) if x is not None else None


@strawberry.type
class CollateralMutation:
    @_mutation(
        "Register an asset of an existing enterprise (goods and warehouse must exist too) "
        "for monitoring; again with the same id updates quantity, unit and price."
    )
    async def register_collateral(
        self, info: Info[Context, None], input: RegisterCollateralInput
    ) -> CollateralAsset:
        found: ops.CollateralAsset = await info.context.call(
            ops.register_asset, id=str(input.id), owner_id=str(input.owner_id), kind=input.kind,
            quantity=input.quantity, unit=input.unit, unit_value=int(input.unit_value),
            currency=input.currency, goods_id=_id(input.goods_id),
            warehouse_id=_id(input.warehouse_id),
        )  # fmt: skip
        _registry_changed(info)
        return CollateralAsset.from_domain(found)

    @_mutation("Register a sensor monitoring an asset; its readings count from then on.")
    async def register_sensor(
        self, info: Info[Context, None], input: RegisterSensorInput
    ) -> Sensor:
        found: SensorInfo = await info.context.call(
            ops.register_sensor, id=str(input.id), kind=input.kind, asset_id=str(input.asset_id),
            warehouse_id=_id(input.warehouse_id), interval_s=input.interval_s,
        )  # fmt: skip
        _registry_changed(info)
        return Sensor.from_domain(found)

    @_mutation(
        "Replace an asset's monitoring limits (a geofence circle, a temperature band, a "
        "humidity ceiling); a limit left out is removed."
    )
    async def set_collateral_limits(
        self, info: Info[Context, None], asset_id: strawberry.ID,
        geofence: GeofenceInput | None = None, temp_min: float | None = None,
        temp_max: float | None = None, humidity_max: float | None = None,
    ) -> CollateralAsset:  # fmt: skip
        fence = DomainGeofence(geofence.lat, geofence.lon, geofence.radius_m) if geofence else None
        found: ops.CollateralAsset = await info.context.call(
            ops.set_limits, str(asset_id), geofence=fence, temp_min=temp_min,
            temp_max=temp_max, humidity_max=humidity_max,
        )  # fmt: skip
        _registry_changed(info)
        return CollateralAsset.from_domain(found)

    @_mutation(
        "Let a quantity leave the warehouse between validFrom and validTo without a "
        "stock_without_release alert. Refused (CONFLICT) while the asset backs a live "
        "financing: goods are released after repayment. The same order again returns it."
    )
    async def issue_release_order(
        self, info: Info[Context, None], id: strawberry.ID, asset_id: strawberry.ID,
        quantity: Decimal, valid_from: datetime, valid_to: datetime,
    ) -> ReleaseOrder:  # fmt: skip
        found: DomainReleaseOrder = await info.context.call(
            ops.issue_release_order, id=str(id), asset_id=str(asset_id), quantity=quantity,
            valid_from=valid_from, valid_to=valid_to,
        )  # fmt: skip
        _registry_changed(info)
        return ReleaseOrder.from_domain(found)

    @_mutation(
        "A new unit price: the asset is valued at its measured (else pledged) quantity times "
        "the price, and finance recomputes the loan-to-value of the live financings it backs, "
        "raising margin calls past the product's maximum."
    )
    async def revalue_collateral(
        self, info: Info[Context, None], asset_id: strawberry.ID, unit_value: BigInt
    ) -> Revaluation:
        done: ops.Revaluation = await info.context.call(ops.revalue, str(asset_id), int(unit_value))
        calls = await info.context.call(
            on_valuation, done.asset_id, done.value_minor, done.currency
        )
        _registry_changed(info)
        return Revaluation(
            asset_id=strawberry.ID(done.asset_id), unit_value=BigInt(done.unit_value),
            quantity=done.quantity, value_minor=BigInt(done.value_minor),
            currency=done.currency,
            margin_calls=[
                MarginCall(
                    alert_id=strawberry.ID(c.alert_id), financing_id=strawberry.ID(c.financing_id),
                    ltv_bps=c.ltv_bps, max_ltv_bps=c.max_ltv_bps,
                    shortfall=BigInt(c.shortfall_minor), message=c.message,
                )
                for c in calls
            ],
        )  # fmt: skip
