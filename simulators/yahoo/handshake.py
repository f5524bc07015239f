"""The cookie/crumb handshake: any page of the cookie host (`GET /`, standing for `https://fc.yahoo.com`) sets
cookie `A3`; `GET /v1/test/getcrumb` with that cookie answers the crumb as plain text; endpoints that need a
crumb answer 401 `Invalid Crumb` when the `crumb` parameter is not the one issued for the request's cookie."""

import secrets
from dataclasses import dataclass, field

from aiohttp import web

COOKIE = "A3"
COOKIE_PAGE = "<html><head><title>Yahoo</title></head><body><h1>404 Not Found</h1></body></html>"


def finance_error(status: int, code: str, description: str) -> web.Response:
    return web.json_response({"finance": {"result": None, "error": {"code": code, "description": description}}},
                             status=status)


@dataclass
class Handshake:
    crumbs: dict[str, str] = field(default_factory=dict)  # A3 cookie -> crumb

    async def cookie_page(self, request: web.Request) -> web.Response:
        """fc.yahoo.com answers 404 and sets the cookie anyway (host-only here: no Domain, no Secure)."""
        response = web.Response(status=404, text=COOKIE_PAGE, content_type="text/html")
        cookie = request.cookies.get(COOKIE)
        if cookie not in self.crumbs:
            cookie = "d=AQABBA" + secrets.token_urlsafe(24) + "&S=AQAAA" + secrets.token_urlsafe(16)
            self.crumbs[cookie] = secrets.token_urlsafe(8)[:11]
        response.set_cookie(COOKIE, cookie, max_age=31_557_600, path="/", httponly=True, samesite="None")
        return response

    async def crumb(self, request: web.Request) -> web.Response:
        crumb = self.crumbs.get(request.cookies.get(COOKIE, ""))
        if crumb is None:
            return finance_error(401, "Unauthorized", "Invalid Cookie")
        return web.Response(text=crumb, content_type="text/plain")

    def valid(self, request: web.Request) -> bool:
        expected = self.crumbs.get(request.cookies.get(COOKIE, ""))
        return expected is not None and request.query.get("crumb") == expected

    def invalid_crumb(self) -> web.Response:
        return finance_error(401, "Unauthorized", "Invalid Crumb")
