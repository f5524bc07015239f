"""HTTP routes of the quality slice: each builds a Command or Query and sends it to the Mediator."""

from typing import Any

from fastapi import APIRouter, Request

from src.features.quality.messages import (
    CheckSeriesQualityCommand,
    GetQualitySummaryQuery,
    GetSeriesQualityQuery,
    JudgeFlagCommand,
    ReconcileLiveBarsCommand,
)
from src.features.quality.schemas import (
    FlagBody,
    FlagVerdictRequest,
    QualitySummaryBody,
    SeriesQualityBody,
    SeriesQualityParams,
    SummaryParams,
    flag_state,
)
from src.features.shared.dependencies import mediator_of
from src.features.shared.fields import ExchangePath, SymbolPath
from src.features.shared.query_models import openapi_parameters, parse_query
from src.features.shared.series_params import SeriesParams

router = APIRouter(prefix="/api/v1/quality", tags=["data quality"])
_NOT_CHECKED: dict[int | str, dict[str, Any]] = {404: {"description": "the series has not been checked yet"}}
_NO_BARS: dict[int | str, dict[str, Any]] = {404: {"description": "no bars are stored for this series"}}
_RECONCILE: dict[int | str, dict[str, Any]] = {
    404: {"description": "no bars are stored, or no live-built bars wait to be reconciled"},
    502: {"description": "the source refused"}, 503: {"description": "the source is unavailable"},
}
_VERDICT: dict[int | str, dict[str, Any]] = {
    404: {"description": "the series has no such flag"},
}


@router.get("", openapi_extra=openapi_parameters(SummaryParams))
async def summary(request: Request) -> QualitySummaryBody:
    """Every checked series, worst score first, and each source's score."""
    params = parse_query(SummaryParams, request)
    result = await mediator_of(request).send(GetQualitySummaryQuery(params.source, params.limit))
    return QualitySummaryBody.of(result)


@router.get("/{exchange}/{symbol}", openapi_extra=openapi_parameters(SeriesQualityParams), responses=_NOT_CHECKED)
async def series_quality(exchange: ExchangePath, symbol: SymbolPath, request: Request) -> SeriesQualityBody:
    """A series' score, its checks passed and failed, a page of its anomalies (newest bar first) and its
    score history."""
    params = parse_query(SeriesQualityParams, request)
    query = GetSeriesQualityQuery(params.series_key(exchange, symbol), params.offset, params.limit,
                                  flag_state(params.state), params.check, params.history)
    return SeriesQualityBody.of(await mediator_of(request).send(query))


@router.post("/{exchange}/{symbol}/check", openapi_extra=openapi_parameters(SeriesParams), responses=_NO_BARS)
async def check_series(exchange: ExchangePath, symbol: SymbolPath, request: Request) -> SeriesQualityBody:
    """Run every check over the stored series now."""
    key = parse_query(SeriesParams, request).series_key(exchange, symbol)
    return SeriesQualityBody.of(await mediator_of(request).send(CheckSeriesQualityCommand(key)))


@router.post("/{exchange}/{symbol}/reconcile", openapi_extra=openapi_parameters(SeriesParams), responses=_RECONCILE)
async def reconcile_series(exchange: ExchangePath, symbol: SymbolPath, request: Request) -> SeriesQualityBody:
    """Compare the live-built bars with the source's bars of the same periods; by QUALITY_RECONCILE_POLICY keep
    the live bars or replace the differing ones with the source's. Anomalies shown: `live_vs_source`."""
    key = parse_query(SeriesParams, request).series_key(exchange, symbol)
    return SeriesQualityBody.of(await mediator_of(request).send(ReconcileLiveBarsCommand(key)))


@router.post("/{exchange}/{symbol}/flags", openapi_extra=openapi_parameters(SeriesParams), responses=_VERDICT)
async def judge_flag(exchange: ExchangePath, symbol: SymbolPath, body: FlagVerdictRequest,
                     request: Request) -> FlagBody:
    """Confirm a flag (the bar is bad: `exclude_flagged=true` keeps leaving it out) or clear it (a false
    positive: its bars are served again)."""
    key = parse_query(SeriesParams, request).series_key(exchange, symbol)
    command = JudgeFlagCommand(key, body.check, body.bar_time, confirm=body.verdict == "confirmed")
    return FlagBody.of(await mediator_of(request).send(command))
