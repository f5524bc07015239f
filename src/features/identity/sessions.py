"""Sessions: a login opens a refresh-token family and hands out an access token; a refresh rotates the
family's token (the rules are the domain's, `src.domain.identity.refresh`); a logout revokes the family."""

from dataclasses import dataclass

import structlog

from src.common.errors import Unauthenticated
from src.common.ports import AccessTokens, Clock, IssuedToken, RefreshTokenRepository, Secrets, UserRepository
from src.domain.identity import RefreshToken, RefreshVerdict, User

log = structlog.get_logger("auth.sessions")


@dataclass(frozen=True, slots=True)
class TokenPair:
    user: User
    access: IssuedToken
    refresh_token: str  # shown to the client once; only its digest is kept
    refresh_expires_at: float
    issued_at: float


class Sessions:
    def __init__(self, tokens: AccessTokens, refresh_tokens: RefreshTokenRepository, users: UserRepository,
                 secrets: Secrets, clock: Clock, *, refresh_ttl_s: float) -> None:
        self._tokens = tokens
        self._refresh = refresh_tokens
        self._users = users
        self._secrets = secrets
        self._clock = clock
        self._ttl_s = refresh_ttl_s

    async def open(self, user: User) -> TokenPair:
        now = self._clock.now()
        family_id = self._secrets.new_id()
        access = self._tokens.issue(user.principal(family_id), now)  # first: refuses when authentication is off
        secret = self._secrets.new_secret()
        token = RefreshToken.first(self._secrets.digest(secret), family_id, user.user_id, now, self._ttl_s)
        await self._refresh.add(token)
        return TokenPair(user, access, secret, token.expires_at, now)

    async def rotate(self, presented: str) -> TokenPair:
        now = self._clock.now()
        token = await self._refresh.get(self._secrets.digest(presented))
        if token is None:
            raise Unauthenticated("unknown refresh token")
        verdict = token.judge(now)
        if verdict is RefreshVerdict.ROTATE and not await self._refresh.mark_used(token.token_digest, now):
            verdict = RefreshVerdict.REUSED  # used by someone else a moment ago
        if verdict is not RefreshVerdict.ROTATE:
            await self._refuse(token, verdict, now)
        user = await self._users.get(token.user_id)
        if user is None or user.disabled:
            await self._refresh.revoke_family(token.family_id, now)
            raise Unauthenticated("this user is disabled")
        secret = self._secrets.new_secret()
        successor = token.successor(self._secrets.digest(secret), now, self._ttl_s)
        await self._refresh.add(successor)
        access = self._tokens.issue(user.principal(token.family_id), now)
        return TokenPair(user, access, secret, successor.expires_at, now)

    async def _refuse(self, token: RefreshToken, verdict: RefreshVerdict, now: float) -> None:
        if verdict is RefreshVerdict.REUSED:
            await self._refresh.revoke_family(token.family_id, now)
            log.warning("refresh_token_reused", user_id=token.user_id, family_id=token.family_id,
                        detail="a used refresh token came back: every token of its login was revoked")
            raise Unauthenticated("this refresh token was used already; the login it belongs to was revoked")
        raise Unauthenticated(f"this refresh token is {verdict}")

    async def close(self, presented: str) -> None:
        token = await self._refresh.get(self._secrets.digest(presented))
        if token is not None:
            await self._refresh.revoke_family(token.family_id, self._clock.now())

    async def close_all(self, user_id: str, *, but: str | None = None) -> None:
        """Every login of the user, but the one (refresh-token family) named by `but`."""
        await self._refresh.revoke_user(user_id, self._clock.now(), keep_family=but)
