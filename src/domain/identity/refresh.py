"""Refresh tokens: each use rotates the token; a token used twice means it was stolen.

A login opens a *family*; every refresh marks the presented token used and issues the next token of the
same family. Rules, in the order they are applied to a presented token:
1. A token of a revoked family is refused (logout, password change, a detected reuse, a disabled user).
2. A token that was used already is a reuse: someone holds a copy. It is refused and its whole family is
   revoked, so that neither the thief nor the victim can go on with it; the user logs in again.
3. An expired token is refused.
4. Otherwise the token is rotated: marked used, and the next token of the family issued.
"""

from dataclasses import dataclass, replace
from enum import StrEnum


class RefreshVerdict(StrEnum):
    ROTATE = "rotate"
    REVOKED = "revoked"
    REUSED = "reused"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class RefreshToken:
    token_digest: str
    family_id: str
    user_id: str
    issued_at: float
    expires_at: float
    used_at: float | None = None
    revoked_at: float | None = None

    @classmethod
    def first(cls, token_digest: str, family_id: str, user_id: str, now: float, ttl_s: float) -> "RefreshToken":
        return cls(token_digest, family_id, user_id, now, now + ttl_s)

    def judge(self, now: float) -> RefreshVerdict:
        if self.revoked_at is not None:
            return RefreshVerdict.REVOKED
        if self.used_at is not None:
            return RefreshVerdict.REUSED
        if now >= self.expires_at:
            return RefreshVerdict.EXPIRED
        return RefreshVerdict.ROTATE

    def successor(self, token_digest: str, now: float, ttl_s: float) -> "RefreshToken":
        """The next token of the family (the presented one is marked used by the store, atomically)."""
        return replace(self, token_digest=token_digest, issued_at=now, expires_at=now + ttl_s, used_at=None)
