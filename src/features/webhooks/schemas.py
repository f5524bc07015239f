"""HTTP response bodies of the webhooks slice (pydantic)."""

from pydantic import BaseModel

from src.common.ports import DeadLetter
from src.common.redaction import redact_text, redact_url
from src.common.time_format import iso_utc


class RedeliveryBody(BaseModel):
    redelivered: int
    not_redelivered: int  # their URL is no longer configured


class DeadLetterBody(BaseModel):
    delivery_id: str
    url: str  # credentials in it are redacted, also for letters stored before redaction existed
    event_type: str
    attempts: int
    error: str
    correlation_id: str | None
    failed_at: str
    body: str

    @classmethod
    def of(cls, d: DeadLetter) -> "DeadLetterBody":
        return cls(
            delivery_id=d.delivery_id, url=redact_url(d.url), event_type=d.event_type, attempts=d.attempts,
            error=redact_text(d.error), correlation_id=d.correlation_id, failed_at=iso_utc(d.failed_at),
            body=d.body.decode("utf-8", "replace"),
        )
