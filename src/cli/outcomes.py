"""What syncing one series came to, the same whether it ran through the API or in-process."""

from dataclasses import asdict, dataclass
from typing import Any

from src.cli.series import SeriesSpec


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    spec: SeriesSpec
    ok: bool
    status: str = "error"
    bars_fetched: int = 0
    bars_written: int = 0
    first_bar_time: str | None = None
    last_bar_time: str | None = None
    error: str | None = None

    @classmethod
    def failed(cls, spec: SeriesSpec, error: str) -> "SyncOutcome":
        return cls(spec, ok=False, error=error)

    @classmethod
    def of_answer(cls, spec: SeriesSpec, answer: dict[str, Any]) -> "SyncOutcome":
        """From the API's SyncResponse body."""
        return cls(
            spec, ok=True, status=str(answer.get("status", "completed")), bars_fetched=int(answer["bars_fetched"]),
            bars_written=int(answer["bars_written"]), first_bar_time=answer.get("first_bar_time"),
            last_bar_time=answer.get("last_bar_time"),
        )

    def as_json(self) -> dict[str, Any]:
        fields = asdict(self)
        return {**fields.pop("spec"), **fields}
