"""The service's HTTP API as the command line sees it: one client with the API key header, transport
failures turned into `Unreachable` (exit 3) and error responses into `ServerProblem` (exit 2) carrying the
problem+json body the server sent."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import httpx

from src.cli.errors import ServerProblem, Unreachable

API_KEY_HEADER = "X-API-Key"
CONNECT_TIMEOUT_S = 5.0


class Api:
    def __init__(self, url: str, *, api_key: str | None = None, timeout_s: float = 300.0) -> None:
        self.url = url.rstrip("/")
        headers = {API_KEY_HEADER: api_key} if api_key else {}
        timeout = httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
        self._client = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a successful response; raises `ServerProblem` or `Unreachable` otherwise."""
        async with self.stream(method, path, **kwargs) as response:
            await response.aread()
            return response.json()

    @asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """A successful response whose body is still to be read (for downloads)."""
        try:
            async with self._client.stream(method, path, **kwargs) as response:
                if response.is_error:
                    await response.aread()
                    raise problem_of(response)
                yield response
        except httpx.ConnectError as error:
            raise Unreachable(f"cannot reach the service at {self.url} ({error})", url=self.url) from None
        except httpx.ConnectTimeout:
            raise Unreachable(f"cannot reach the service at {self.url} (connect timed out)", url=self.url) from None
        except httpx.TimeoutException as error:
            raise ServerProblem(f"the service at {self.url} did not answer in time ({type(error).__name__})",
                                url=self.url) from None
        except httpx.TransportError as error:
            raise ServerProblem(f"the connection to {self.url} failed: {type(error).__name__}: {error}",
                                url=self.url) from None


def problem_of(response: httpx.Response) -> ServerProblem:
    problem = _json_or_none(response)
    status = response.status_code
    if isinstance(problem, dict):
        title = problem.get("title") or response.reason_phrase
        message = f"{status} {title}: {problem.get('detail') or ''}".rstrip(": ")
    else:
        message = f"{status} {response.reason_phrase}: {response.text[:200]}".rstrip(": ")
    if status in (401, 403):
        message += " (pass an API key with --api-key or PQ_API_KEY)"
    return ServerProblem(message, status=status, problem=problem)


def refused_fields(problem: ServerProblem) -> set[str]:
    """The fields a 422 problem names (`errors: [{field, message}]`)."""
    body = problem.details.get("problem")
    if problem.details.get("status") != 422 or not isinstance(body, dict):
        return set()
    return {str(e.get("field")) for e in body.get("errors") or () if isinstance(e, dict)}


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
