"""The GraphQL schema, composed from one query (and mutation) type per area.

To add an area, write its types in ``api/graphql/<area>.py`` and list its root type here.
"""

from __future__ import annotations

import strawberry
from strawberry.extensions import QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.graphql.admin import AdminQuery
from api.graphql.analytics import AnalyticsQuery
from api.graphql.core import CoreQuery
from api.graphql.extensions import DomainErrors
from api.graphql.scalars import SCALARS
from chainlens.settings import Settings

QUERY_TYPES: tuple[type, ...] = (CoreQuery, AdminQuery, AnalyticsQuery)
MUTATION_TYPES: tuple[type, ...] = ()


def build_schema(settings: Settings) -> strawberry.Schema:
    query = merge_types("Query", QUERY_TYPES)
    mutation = merge_types("Mutation", MUTATION_TYPES) if MUTATION_TYPES else None
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        extensions=[lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth), DomainErrors],
        config=StrawberryConfig(scalar_map=SCALARS),
    )
