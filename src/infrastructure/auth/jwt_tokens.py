"""Access tokens as JWTs (PyJWT, HS256) carrying the principal (user id, username, role, and the login:
the refresh-token family, `sid`), so that a request is authenticated without a store lookup.

Key rotation: every token names its key in the header (`kid`, derived from the key itself). Tokens are
signed with the current key and verified with it or any previous key still configured; move the current
key to the previous list and set a new one, and tokens already issued stay valid until they expire.
"""

import hashlib

import jwt

from src.common.errors import AuthenticationOff, Unauthenticated
from src.common.ports import IssuedToken, VerifiedToken
from src.domain.identity import Principal, Role

ISSUER = "pocketquant"
ALGORITHM = "HS256"
_REQUIRED = ["exp", "iat", "sub", "name", "role", "typ", "iss"]


def key_id(secret: str) -> str:
    return "k" + hashlib.sha256(b"pocketquant-kid:" + secret.encode()).hexdigest()[:15]


class JwtAccessTokens:
    def __init__(self, secret: str, *, previous: list[str] | None = None, ttl_s: int = 3600) -> None:
        self._kid = key_id(secret)
        self._secret = secret
        self._keys = {key_id(s): s for s in [*(previous or []), secret]}
        self.ttl_s = ttl_s

    def issue(self, principal: Principal, now: float) -> IssuedToken:
        expires_at = int(now) + self.ttl_s
        claims = {"iss": ISSUER, "sub": principal.user_id, "name": principal.username, "role": str(principal.role),
                  "typ": "access", "iat": int(now), "exp": expires_at}
        if principal.session_id is not None:
            claims["sid"] = principal.session_id
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"kid": self._kid})
        return IssuedToken(token, float(expires_at))

    def verify(self, token: str, now: float) -> VerifiedToken:
        try:
            secret = self._keys.get(jwt.get_unverified_header(token).get("kid", ""))
            if secret is None:
                raise Unauthenticated("the access token is signed with a key this service does not know")
            # Expiry is checked below against the service's clock, not the library's.
            claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"verify_exp": False, "require": _REQUIRED})
            session_id = claims.get("sid")  # absent from tokens issued before logins were named
            principal = Principal(str(claims["sub"]), str(claims["name"]), Role(claims["role"]),
                                  session_id=None if session_id is None else str(session_id))
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise Unauthenticated("the access token is invalid (malformed or tampered with)") from None
        if claims["typ"] != "access":
            raise Unauthenticated("not an access token")
        if now >= float(claims["exp"]):
            raise Unauthenticated("the access token has expired; refresh it or log in again")
        return VerifiedToken(principal, float(claims["exp"]))


class NoAccessTokens:
    """Authentication is off (no signing key): nothing is issued or accepted."""

    def issue(self, principal: Principal, now: float) -> IssuedToken:
        raise AuthenticationOff("authentication is off on this service (AUTH_JWT_SECRET is not set)")

    def verify(self, token: str, now: float) -> VerifiedToken:
        raise Unauthenticated("authentication is off on this service")
