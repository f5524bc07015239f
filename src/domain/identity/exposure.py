"""Who can reach the service decides whether it may run without authentication.

Rules:
1. An address is loopback when it is `localhost` or an address in 127.0.0.0/8 or ::1.
2. The service may run open (no authentication) only in development and bound to a loopback address:
   then only programs on the same machine reach it.
3. Bound to a loopback address, only loopback host names are expected in `Host` (anything else is a
   DNS-rebinding attempt); bound elsewhere, the operator names the hosts (any, when they do not).
"""

import ipaddress

LOOPBACK_HOST_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    name = host.strip().lower().strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def may_run_open(environment: str, host: str) -> bool:
    return environment == "development" and is_loopback(host)


def default_trusted_hosts(bound_host: str) -> tuple[str, ...]:
    return LOOPBACK_HOST_NAMES if is_loopback(bound_host) else ("*",)
