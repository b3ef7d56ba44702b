"""The GraphQL schema, composed from one query (and mutation) type per area.

To add an area, write its types in ``api/graphql/<area>.py`` and list its root type here.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from api.errors import is_domain_error
from api.graphql.admin import AdminQuery
from api.graphql.analytics import AnalyticsQuery
from api.graphql.audit import AuditQuery, AuditTrail
from api.graphql.cases import CasesMutation, CasesQuery
from api.graphql.collateral import CollateralMutation
from api.graphql.contracts import ContractsMutation, ContractsQuery
from api.graphql.core import CoreQuery
from api.graphql.credit import CreditMutation, CreditQuery
from api.graphql.decisions import DecisionsMutation, DecisionsQuery
from api.graphql.documents import DocumentsMutation, DocumentsQuery
from api.graphql.explorer import ExplorerQuery
from api.graphql.extensions import DomainErrors, ReadCacheInvalidation
from api.graphql.finance import FinanceMutation, FinanceQuery
from api.graphql.financing_contracts import FinancingContractsMutation, FinancingContractsQuery
from api.graphql.lists import ListsQuery
from api.graphql.offers import OffersMutation
from api.graphql.products import ProductsMutation, ProductsQuery
from api.graphql.receivables import ChainFinanceMutation, ChainFinanceQuery
from api.graphql.reports import ReportsQuery
from api.graphql.resolution import ResolutionMutation, ResolutionQuery
from api.graphql.risk import RiskQuery, WhatIfQuery
from api.graphql.scalars import SCALARS
from api.graphql.scoping import ScopeGuard
from api.graphql.sensors import SensorsMutation, SensorsQuery, SensorsSubscription
from api.graphql.training import TrainingMutation, TrainingQuery, TrainingSubscription
from api.graphql.watchlist import WatchListMutation, WatchListQuery
from api.limits import limit_extensions
from chainlens.settings import Settings

QUERY_TYPES: tuple[type, ...] = (
    CoreQuery,
    AdminQuery,
    AnalyticsQuery,
    ExplorerQuery,
    AuditQuery,
    FinanceQuery,
    CreditQuery,
    ListsQuery,
    WhatIfQuery,
    RiskQuery,
    SensorsQuery,
    CasesQuery,
    ChainFinanceQuery,
    ReportsQuery,
    DecisionsQuery,
    ResolutionQuery,
    TrainingQuery,
    ContractsQuery,
    FinancingContractsQuery,
    DocumentsQuery,
    WatchListQuery,
    ProductsQuery,
)
MUTATION_TYPES: tuple[type, ...] = (
    FinanceMutation,
    CreditMutation,
    SensorsMutation,
    CollateralMutation,
    ResolutionMutation,
    CasesMutation,
    ChainFinanceMutation,
    DecisionsMutation,
    OffersMutation,
    TrainingMutation,
    ContractsMutation,
    FinancingContractsMutation,
    DocumentsMutation,
    WatchListMutation,
    ProductsMutation,
)
SUBSCRIPTION_TYPES: tuple[type, ...] = (SensorsSubscription, TrainingSubscription)


class Schema(strawberry.Schema):
    """strawberry's schema, except that a client's error (bad input, a refusal, a timeout,
    a validation error) is an answer, not a log line with a traceback: under load those
    buried the log. Anything else is still logged with its traceback (and by `DomainErrors`
    with the request's correlation id)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GraphQLError) or is_domain_error(original):
                continue
            StrawberryLogger.error(error, execution_context)


def build_schema(settings: Settings) -> strawberry.Schema:
    query = merge_types("Query", QUERY_TYPES)
    mutation = merge_types("Mutation", MUTATION_TYPES) if MUTATION_TYPES else None
    subscription = merge_types("Subscription", SUBSCRIPTION_TYPES) if SUBSCRIPTION_TYPES else None
    return Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        # Limits first (they reject before anything runs), then each root field's data
        # scope (api/graphql/scoping.py), the audit trail; a mutation empties the read cache.
        extensions=[*limit_extensions(settings), ScopeGuard, DomainErrors, AuditTrail,
                    ReadCacheInvalidation],
        config=StrawberryConfig(
            scalar_map=SCALARS,
            batching_config={"max_operations": settings.graphql_max_batch},
        ),
    )
