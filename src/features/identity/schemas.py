"""HTTP request and response bodies of the identity slice (pydantic). Passwords and secrets are accepted
here and returned nowhere, except a new API key's, once."""

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from src.common.time_format import iso_utc_or_none
from src.domain.identity import ApiKey, Principal, Role, User
from src.domain.identity.accounts import MAX_PASSWORD_LENGTH
from src.features.identity.handlers import CreatedApiKey
from src.features.identity.sessions import TokenPair

Username = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
                     Field(examples=["alice"])]
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
RefreshTokenText = Annotated[str, StringConstraints(min_length=16, max_length=256)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Body):
    username: Username
    password: Password


class RefreshRequest(_Body):
    refresh_token: RefreshTokenText


class RegisterRequest(_Body):
    username: Username
    password: Password = Field(description="12 to 256 characters, not containing the username")


class PasswordChangeRequest(_Body):
    current_password: Password
    new_password: Password = Field(description="12 to 256 characters, not containing the username")


class CreateUserRequest(_Body):
    username: Username
    password: Password = Field(description="12 to 256 characters, not containing the username")
    role: Role = Role.VIEWER


class UpdateUserRequest(_Body):
    role: Role | None = None
    disabled: StrictBool | None = None
    password: Password | None = Field(default=None, description="a new password (ends the user's sessions)")


class CreateApiKeyRequest(_Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=64), Field(examples=["trading bot"])]
    role: Role | None = Field(default=None, description="no higher than yours; default: the highest it may have")
    owner: Username | None = Field(default=None, description="admins: create the key for this user")


class UserBody(BaseModel):
    id: str
    username: str
    role: Role
    disabled: bool
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, user: User) -> "UserBody":
        return cls(id=user.user_id, username=user.username, role=user.role, disabled=user.disabled,
                   created_at=iso_utc_or_none(user.created_at), updated_at=iso_utc_or_none(user.updated_at))


class TokenBody(BaseModel):
    token_type: Literal["bearer"] = "bearer"
    access_token: str
    expires_in: int = Field(description="seconds the access token is valid")
    refresh_token: str = Field(description="exchange it at /api/v1/auth/refresh; each one works once")
    refresh_expires_in: int
    user: UserBody

    @classmethod
    def of(cls, pair: TokenPair) -> "TokenBody":
        return cls(access_token=pair.access.token, expires_in=_seconds(pair.access.expires_at - pair.issued_at),
                   refresh_token=pair.refresh_token,
                   refresh_expires_in=_seconds(pair.refresh_expires_at - pair.issued_at), user=UserBody.of(pair.user))


def _seconds(span: float) -> int:
    return max(0, math.ceil(span))  # tokens expire on whole seconds


class PrincipalBody(BaseModel):
    id: str
    username: str
    role: Role
    api_key_id: str | None = Field(description="the API key this request was authenticated with, if any")

    @classmethod
    def of(cls, principal: Principal) -> "PrincipalBody":
        return cls(id=principal.user_id, username=principal.username, role=principal.role,
                   api_key_id=principal.key_id)


class ApiKeyBody(BaseModel):
    id: str
    name: str
    owner: str
    role: Role
    created_at: str | None
    last_used_at: str | None
    revoked_at: str | None

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyBody":
        return cls(id=key.key_id, name=key.name, owner=key.owner_username, role=key.role,
                   created_at=iso_utc_or_none(key.created_at), last_used_at=iso_utc_or_none(key.last_used_at),
                   revoked_at=iso_utc_or_none(key.revoked_at))


class CreatedApiKeyBody(ApiKeyBody):
    key: str = Field(description="the key itself, shown this once: send it as `Authorization: Bearer <key>` or "
                                 "`X-API-Key: <key>`")

    @classmethod
    def created(cls, created: CreatedApiKey) -> "CreatedApiKeyBody":
        return cls(**ApiKeyBody.of(created.key).model_dump(), key=created.plaintext)
