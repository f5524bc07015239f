"""HTTP request and response bodies of the alerts slice (pydantic), kept apart from the Commands."""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from src.common.alert_shape import trigger_fields
from src.common.ports import StoredAlertRule
from src.common.time_format import iso_utc, iso_utc_or_none
from src.domain.alerts import CHANNELS, AlertTriggeredEvent
from src.domain.market_data import Interval, Symbol
from src.features.alerts.messages import AlertSettings
from src.features.shared.fields import DEFAULT_SOURCE, TICKER_PATTERN, IntervalCode, SourceId


def _symbol(value: str) -> str:
    return Symbol.parse(value).ticker  # raises with a message naming the expected form


Ticker = Annotated[str, AfterValidator(_symbol), Field(pattern=TICKER_PATTERN, examples=["BINANCE:BTCUSDT"])]
Channel = Annotated[str, Field(json_schema_extra={"enum": list(CHANNELS)})]
CONDITION_EXAMPLE = {"kind": "price_crosses", "level": 70000, "direction": "up"}
Condition = Annotated[dict[str, Any], Field(
    description="`kind` and its fields: price_above / price_below {level}, price_crosses {level, direction: up | "
                "down | either}, percent_change {percent, window_s}, volume_spike {multiplier, period}, rsi_above / "
                "rsi_below {level, period}, macd_crosses_signal {fast, slow, signal, direction}, "
                "price_crosses_bollinger {band: upper | lower, period, stddev}, price_crosses_ma {average: sma | "
                "ema, period, direction}", examples=[CONDITION_EXAMPLE])]


class AlertRequest(BaseModel):
    """A rule's settings: the body of POST (create) and PUT (replace every setting)."""

    model_config = ConfigDict(extra="forbid")

    source: SourceId = DEFAULT_SOURCE
    symbol: Ticker
    condition: Condition
    interval: IntervalCode | None = Field(default=None, description="needed by bar and indicator conditions")
    cooldown_s: float = Field(default=0.0, ge=0, description="after a trigger, a repeating rule waits this long")
    one_time: bool = False
    expires_at: float | None = Field(default=None, description="epoch seconds: the rule stops then")
    channels: list[Channel] = Field(default_factory=lambda: ["log"], max_length=len(CHANNELS))
    note: str = Field(default="", max_length=1000)

    def settings(self) -> AlertSettings:
        return AlertSettings(
            source=self.source, symbol=Symbol.parse(self.symbol), condition=self.condition,
            interval=None if self.interval is None else Interval.parse(self.interval), cooldown_s=self.cooldown_s,
            one_time=self.one_time, expires_at=self.expires_at, channels=tuple(self.channels), note=self.note,
        )

    def changes(self) -> dict[str, Any]:
        settings = self.settings()
        return {name: getattr(settings, name) for name in AlertSettings.__dataclass_fields__}


class AlertPatch(BaseModel):
    """The settings to change (PATCH); the others stay."""

    model_config = ConfigDict(extra="forbid")

    source: SourceId | None = None
    symbol: Ticker | None = None
    condition: Condition | None = None
    interval: IntervalCode | None = None
    cooldown_s: float | None = Field(default=None, ge=0)
    one_time: bool | None = None
    expires_at: float | None = None
    channels: list[Channel] | None = Field(default=None, max_length=len(CHANNELS))
    note: str | None = Field(default=None, max_length=1000)

    def changes(self) -> dict[str, Any]:
        given = self.model_dump(exclude_unset=True)
        for name in ("source", "symbol", "condition", "cooldown_s", "one_time", "channels", "note"):
            if name in given and given[name] is None:
                del given[name]  # null for a setting that cannot be empty: left as it is
        if given.get("symbol") is not None:
            given["symbol"] = Symbol.parse(given["symbol"])
        if given.get("interval") is not None:
            given["interval"] = Interval.parse(given["interval"])
        if "channels" in given:
            given["channels"] = tuple(given["channels"])
        return given


class AlertBody(BaseModel):
    id: str
    owner: str
    source: str
    symbol: str
    interval: str | None
    condition: dict[str, Any]
    evaluated_on: str = Field(description="tick: on live prices; bar_close: on each closed bar of `interval`")
    cooldown_s: float
    one_time: bool
    expires_at: str | None
    expires_at_timestamp: float | None
    channels: list[str]
    note: str
    status: str = Field(description="armed, cooling_down, done, expired or disabled")
    trigger_count: int
    last_triggered_at: str | None
    cooldown_until: str | None
    side: str = Field(description="the side of its level last seen: above, below or unknown")
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, stored: StoredAlertRule) -> "AlertBody":
        rule, memory = stored.rule, stored.rule.memory
        return cls(
            id=rule.id, owner=rule.owner, source=rule.source, symbol=rule.symbol.ticker,
            interval=None if rule.interval is None else rule.interval.code, condition=rule.condition.to_dict(),
            evaluated_on=str(rule.condition.evaluated_on), cooldown_s=rule.cooldown_s, one_time=rule.one_time,
            expires_at=iso_utc_or_none(rule.expires_at), expires_at_timestamp=rule.expires_at,
            channels=list(rule.channels), note=rule.note, status=str(rule.status),
            trigger_count=memory.trigger_count, last_triggered_at=iso_utc_or_none(memory.last_triggered_at),
            cooldown_until=iso_utc_or_none(memory.cooldown_until), side=str(memory.side),
            created_at=iso_utc(stored.created_at), updated_at=iso_utc(stored.updated_at),
        )


class AlertTriggerBody(BaseModel):
    rule_id: str
    owner: str
    source: str
    symbol: str
    interval: str | None
    condition: dict[str, Any]
    values: dict[str, float] = Field(description="what fired it: price, level, indicator values...")
    triggered_at: str
    triggered_at_timestamp: float
    evaluated_at: str
    late: bool = Field(description="found on bars backfilled after an outage, not live")
    bar_time: str | None
    trigger_count: int
    channels: list[str]
    note: str

    @classmethod
    def of(cls, event: AlertTriggeredEvent) -> "AlertTriggerBody":
        return cls(**trigger_fields(event))
