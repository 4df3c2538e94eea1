"""Kasi: a Redis-compatible (RESP2) cache server, and its Python client.

    from kasi import Server
    Server.start_server(host='0.0.0.0', port=5000)       # runs in foreground

    from kasi import Client
    client = Client.Client(host='localhost', port=5000)
    client.set("k", "v")

``kasi.Client`` is the client module (``kasi.client``) and ``kasi.Server`` the
server module (``kasi.server``); both are imported on first use.
"""

import importlib
import sys

__version__ = "0.1.0"

__all__ = ["Client", "Server", "KasiClient", "errors", "__version__"]

_LAZY = {"Client": "client", "Server": "server", "client": "client",
         "server": "server", "errors": "errors", "codec": "codec"}


def __getattr__(name):
    if name in _LAZY:
        mod = importlib.import_module("." + _LAZY[name], __name__)
        if name in ("Client", "Server"):
            sys.modules.setdefault(__name__ + "." + name, mod)
        globals()[name] = mod
        return mod
    if name == "KasiClient":
        cls = importlib.import_module(".client", __name__).Client
        globals()[name] = cls
        return cls
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | {"KasiClient"})
