"""Shared GraphQL scalars."""

from __future__ import annotations

from typing import NewType

from strawberry.types.scalar import ScalarDefinition, scalar

# Money in minor units (fen) can pass 2^31, the limit of GraphQL's Int.
BigInt = NewType("BigInt", int)

SCALARS: dict[object, ScalarDefinition] = {
    BigInt: scalar(
        name="BigInt",
        serialize=int,
        parse_value=int,
        description="A whole number of any size; money is always in minor units (fen for CNY).",
    ),
}
