"""HTTP routes of the identity slice: `/api/v1/auth` (sessions, one's own account), `/api/v1/users`
(admins), `/api/v1/api-keys`. Who may call each is in the one access map the app applies
(`src/app/access.py`); routes that act for someone take the principal (`PrincipalDep`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from src.features.identity import messages as m
from src.features.identity.schemas import (
    ApiKeyBody,
    CreateApiKeyRequest,
    CreatedApiKeyBody,
    CreateUserRequest,
    LoginRequest,
    PasswordChangeRequest,
    PrincipalBody,
    RefreshRequest,
    RegisterRequest,
    TokenBody,
    UpdateUserRequest,
    UserBody,
)
from src.features.shared.dependencies import MediatorDep, PrincipalDep

_OFF: dict[int | str, dict[str, Any]] = {409: {"description": "authentication is off on this service"}}
auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=_OFF)
users_router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=_OFF)
api_keys_router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"], responses=_OFF)
_REFUSED: dict[int | str, dict[str, Any]] = {401: {"description": "wrong credentials, or a token that no longer holds"}}
UsernamePath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.\-]{2,63}$")]
KeyIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


@auth_router.post("/login", responses=_REFUSED)
async def login(body: LoginRequest, mediator: MediatorDep) -> TokenBody:
    """An access token (send it as `Authorization: Bearer <token>`) and a refresh token."""
    return TokenBody.of(await mediator.send(m.LoginCommand(body.username, body.password)))


@auth_router.post("/refresh", responses=_REFUSED)
async def refresh(body: RefreshRequest, mediator: MediatorDep) -> TokenBody:
    """A new access token and the next refresh token; the one sent stops working. Sending a used refresh
    token again ends its login (all its tokens): it means someone else holds a copy."""
    return TokenBody.of(await mediator.send(m.RefreshTokensCommand(body.refresh_token)))


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, mediator: MediatorDep) -> None:
    """End the login the refresh token belongs to (access tokens already issued expire on their own)."""
    await mediator.send(m.LogoutCommand(body.refresh_token))


@auth_router.post("/register", status_code=status.HTTP_201_CREATED,
                  responses={403: {"description": "registration is closed"}, 409: {"description": "taken"}})
async def register(body: RegisterRequest, mediator: MediatorDep) -> UserBody:
    """Create a viewer account, when open registration is on (AUTH_OPEN_REGISTRATION); then log in."""
    return UserBody.of(await mediator.send(m.RegisterUserCommand(body.username, body.password)))


@auth_router.get("/me")
async def me(principal: PrincipalDep) -> PrincipalBody:
    """Who this request is authenticated as."""
    return PrincipalBody.of(principal)


@auth_router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: PasswordChangeRequest, principal: PrincipalDep, mediator: MediatorDep) -> None:
    """Change your password; your other logins end (every login, when called with an API key)."""
    await mediator.send(m.ChangePasswordCommand(principal, body.current_password, body.new_password))


@users_router.get("")
async def list_users(principal: PrincipalDep, mediator: MediatorDep) -> list[UserBody]:
    return [UserBody.of(u) for u in await mediator.send(m.ListUsersQuery(principal))]


@users_router.post("", status_code=status.HTTP_201_CREATED,
                   responses={409: {"description": "the username is taken"}})
async def create_user(body: CreateUserRequest, principal: PrincipalDep, mediator: MediatorDep) -> UserBody:
    command = m.CreateUserCommand(principal, body.username, body.password, body.role)
    return UserBody.of(await mediator.send(command))


@users_router.patch("/{username}", responses={404: {"description": "no such user"},
                                              409: {"description": "this would leave no enabled admin"}})
async def update_user(username: UsernamePath, body: UpdateUserRequest, principal: PrincipalDep,
                      mediator: MediatorDep) -> UserBody:
    """Change a user's role, disable or enable them, or set a new password (which ends their sessions)."""
    command = m.UpdateUserCommand(principal, username, body.role, body.disabled, body.password)
    return UserBody.of(await mediator.send(command))


@api_keys_router.post("", status_code=status.HTTP_201_CREATED, responses={404: {"description": "no such owner"}})
async def create_api_key(body: CreateApiKeyRequest, principal: PrincipalDep,
                         mediator: MediatorDep) -> CreatedApiKeyBody:
    """A key for a program (a bot, a notebook). The key is in this response only: it is stored hashed."""
    command = m.CreateApiKeyCommand(principal, body.name, body.role, body.owner)
    return CreatedApiKeyBody.created(await mediator.send(command))


@api_keys_router.get("")
async def list_api_keys(principal: PrincipalDep, mediator: MediatorDep,
                        every: Annotated[bool, Query(alias="all", description="admins: every user's keys")] = False,
                        ) -> list[ApiKeyBody]:
    return [ApiKeyBody.of(k) for k in await mediator.send(m.ListApiKeysQuery(principal, every))]


@api_keys_router.delete("/{key_id}", responses={404: {"description": "no such key (of yours)"}})
async def revoke_api_key(key_id: KeyIdPath, principal: PrincipalDep, mediator: MediatorDep) -> ApiKeyBody:
    """Revoke a key of yours (admins: anyone's); it stops working at once on this worker, within seconds on
    the others."""
    return ApiKeyBody.of(await mediator.send(m.RevokeApiKeyCommand(principal, key_id)))
