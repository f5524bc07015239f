"""Ids and secrets from the operating system's CSPRNG; SHA-256 digests of high-entropy secrets (a salted
slow hash is for passwords, which people choose: random 256-bit secrets need none)."""

import hashlib
import secrets


class SystemSecrets:
    def new_id(self) -> str:
        return secrets.token_hex(8)

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)

    def digest(self, secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()
