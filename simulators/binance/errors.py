"""Binance's error answers: `{"code": <negative int>, "msg": "..."}` with the HTTP status Binance uses."""

import orjson
from aiohttp import web

from simulators.binance.symbols import BinanceSymbol

JSON = "application/json;charset=UTF-8"


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status, self.retry_after = code, msg, status, retry_after

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        extra = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return error_response(self.code, self.msg, self.status, {**(headers or {}), **extra})


def error_response(code: int, msg: str, status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps({"code": code, "msg": msg}), status=status, content_type=None,
                        headers={"Content-Type": JSON, **(headers or {})})


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def invalid_interval() -> BinanceError:
    return BinanceError(-1120, "Invalid interval.")


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal_chars(name: str, pattern: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{pattern}'.")


def invalid_value(name: str) -> BinanceError:
    return BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")


def bad_combination() -> BinanceError:
    return BinanceError(-1128, "Combination of optional parameters invalid.")


def server_busy() -> BinanceError:
    return BinanceError(-1008, "Server is currently overloaded with other requests. Please try again in a few "
                               "minutes.", status=503)


def known(symbols: dict[str, BinanceSymbol], unknown: set[str], name: str) -> BinanceSymbol:
    spec = symbols.get(name)
    if spec is None or name in unknown:
        raise invalid_symbol()
    return spec
