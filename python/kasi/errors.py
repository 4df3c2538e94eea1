"""Exceptions raised by the kasi client.

Every exception raised by :class:`kasi.Client.Client` for a server or network
problem derives from :class:`KasiError`.  Server error replies keep the full
server message (e.g. ``"ERR value is not an integer or out of range"``) in
``str(exc)`` and in ``exc.message``.
"""

__all__ = [
    "KasiError",
    "KasiConnectionError",
    "ConnectionRefused",
    "KasiTimeout",
    "KasiResponseError",
    "KasiAuthError",
    "KasiDecodeError",
    "KasiSecurityError",
    "SignatureError",
    "UnsafePickleError",
    "ServerNotFound",
]


class KasiError(Exception):
    """Base class of every kasi error."""

    @property
    def message(self):
        return str(self.args[0]) if self.args else ""


class KasiConnectionError(KasiError, ConnectionError):
    """The server could not be reached, or the connection broke mid-call."""


class ConnectionRefused(KasiConnectionError):
    """Nothing is listening at the given address (ECONNREFUSED / no socket)."""


class KasiTimeout(KasiConnectionError, TimeoutError):
    """Connecting, sending or reading took longer than the socket timeout."""


class KasiResponseError(KasiError):
    """The server answered with an error reply; ``message`` is its text."""


class KasiAuthError(KasiResponseError):
    """Authentication is required or the password is wrong (NOAUTH, WRONGPASS,
    invalid password)."""


class KasiDecodeError(KasiError, ValueError):
    """A stored value carries the kasi marker but cannot be decoded."""


class KasiSecurityError(KasiError):
    """Pickle was refused for safety reasons."""


class SignatureError(KasiSecurityError):
    """A signed pickle's HMAC-SHA256 does not match (tampered, or another
    secret), or a signed value was read without a secret."""


class UnsafePickleError(KasiSecurityError):
    """Pickle was refused: an unsigned pickle was read by a client without
    ``allow_unsigned_pickle=True`` (the default), or set() was given a value
    that only pickle can store (not one of the safe codec's types) by a
    client with neither a ``secret`` nor ``allow_unsigned_pickle=True``."""


class ServerNotFound(KasiError, FileNotFoundError):
    """No kasi-server binary could be located."""
