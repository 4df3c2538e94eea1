"""The kasi cache client.

    from kasi import Client
    client = Client.Client(host='localhost', port=5000)
    client.set("greeting", "hello", timedelta(minutes=5), domain="web")
    client.get("greeting", domain="web")          # -> 'hello'

Values keep their Python type (see python/README-client.md for the byte-level
encoding).  ``str`` is stored as plain UTF-8, so other Redis clients read and
write text values directly.

Containers and the other common value types (list, tuple, dict, set,
frozenset, bytearray, complex, Fraction, Decimal, datetime/date/time/
timedelta with no tzinfo or a datetime.timezone, UUID, nested up to 100
levels) are stored in a safe structured format that decoding can never turn
into code; this needs no configuration.

Other objects need pickle, and unpickling runs code chosen by whoever wrote
the value.  So by default the client never reads unsigned pickles
(:class:`kasi.errors.UnsafePickleError`) and set() refuses values that would
need one.  To store arbitrary objects, give every client the same
``secret=b'...'``: they are then written as HMAC-SHA256-signed pickles, and
only correctly signed ones are unpickled (else
:class:`kasi.errors.SignatureError`).  ``allow_unsigned_pickle=True`` reads
and writes unsigned pickles instead; it is only safe when every writer to
the server is trusted.

The client is thread-safe: calls borrow a connection from a pool.  Each pooled
connection remembers which domain it has selected; when a call needs another
domain the SELECT is sent in the same write as the command (no extra round
trip); only the first write to a domain not yet selected since the last
(re)connect sends its SELECT alone first, so that a failing SELECT (too many
domains) does not make the write land in the connection's previous domain
(README-client.md describes the one remaining case).
"""

import datetime as _dt
import errno as _errno
import math
import re

import redis
from redis.connection import (BlockingConnectionPool, Connection, DefaultParser,
                              UnixDomainSocketConnection)
from redis.exceptions import ResponseError

from . import errors
from .codec import Codec

__all__ = ["Client", "DEFAULT_DOMAIN"]

DEFAULT_DOMAIN = "default"
DOMAIN_NAME_MAX = 256


# --------------------------------------------------------------------------
# redis-py plumbing: connections that track their domain, and a parser that
# keeps the server's whole error message ("ERR ...", "WRONGPASS ...").
class _FullMessageParser(DefaultParser):
    def parse_error(self, response):
        return ResponseError(response)


class _DomainMixin:
    # The domain this connection has selected; None = unknown.
    kasi_domain = DEFAULT_DOMAIN

    def on_connect(self):
        # redis-py sends AUTH here (and would send SELECT <db> if db != 0; we
        # always keep db=0).  A fresh connection is in the default domain.
        self.kasi_domain = None
        known = getattr(self, "_kasi_known_domains", None)
        if known is not None:
            known.clear()  # maybe a restarted server: its domains are new
        super().on_connect()
        self.kasi_domain = DEFAULT_DOMAIN

    def disconnect(self, *args):
        self.kasi_domain = None
        super().disconnect(*args)


class KasiConnection(_DomainMixin, Connection):
    pass


class KasiUnixConnection(_DomainMixin, UnixDomainSocketConnection):
    pass


# --------------------------------------------------------------------------
def _translate(exc):
    """Map a redis-py / socket exception onto kasi.errors."""
    if isinstance(exc, errors.KasiError):
        return exc
    msg = str(exc)
    if isinstance(exc, ResponseError):
        head = msg.split(" ", 1)[0]
        if head in ("NOAUTH", "WRONGPASS") or "invalid password" in msg \
                or "no password is set" in msg:
            return errors.KasiAuthError(msg)
        return errors.KasiResponseError(msg)
    if isinstance(exc, redis.AuthenticationError):
        return errors.KasiAuthError(msg)
    if isinstance(exc, (redis.TimeoutError, TimeoutError)):
        return errors.KasiTimeout(msg)
    if isinstance(exc, (redis.ConnectionError, OSError)):
        err = getattr(exc, "errno", None)
        if err in (_errno.ECONNREFUSED, _errno.ENOENT) or "refused" in msg \
                or "No such file" in msg:
            return errors.ConnectionRefused(msg)
        return errors.KasiConnectionError(msg)
    if isinstance(exc, redis.RedisError):
        return errors.KasiError(msg)
    return exc


_NETWORK_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


def _expiry_ms(expiry):
    """timedelta / seconds (int or float) -> positive milliseconds, or None."""
    if expiry is None:
        return None
    if isinstance(expiry, _dt.timedelta):
        us = (expiry.days * 86400 + expiry.seconds) * 1000000 + expiry.microseconds
        ms = -((-us) // 1000)  # ceil
    elif isinstance(expiry, bool):
        raise TypeError("expiry must be a timedelta or a number of seconds, not bool")
    elif isinstance(expiry, int):
        ms = expiry * 1000
    elif isinstance(expiry, float):
        if not math.isfinite(expiry):
            raise ValueError("expiry must be finite")
        ms = math.ceil(expiry * 1000)
    else:
        raise TypeError("expiry must be a timedelta or a number of seconds, "
                        "not %s" % type(expiry).__name__)
    if ms <= 0:
        raise ValueError("expiry must be positive (got %r)" % (expiry,))
    return ms


def _key(name):
    if isinstance(name, str):
        return name.encode("utf-8")
    if isinstance(name, bytes):
        return name
    if isinstance(name, int) and not isinstance(name, bool):
        return str(name).encode("ascii")
    raise TypeError("key must be str, bytes or int, not %s" % type(name).__name__)


def _decode_key(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


_BAD_DOMAIN = re.compile(r"[\x00-\x20\x7f]")


def _check_domain(domain):
    if domain is None:
        return DEFAULT_DOMAIN
    if not isinstance(domain, str):
        raise TypeError("domain must be a str, not %s" % type(domain).__name__)
    if domain == "" or _BAD_DOMAIN.search(domain) \
            or len(domain.encode("utf-8")) > DOMAIN_NAME_MAX:
        raise ValueError("invalid domain name %r (1-%d bytes, no spaces or "
                         "control characters)" % (domain, DOMAIN_NAME_MAX))
    return domain


# --------------------------------------------------------------------------
def _num(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def _kv_list(text):
    out = {}
    for item in text.split(","):
        k, sep, v = item.partition("=")
        if sep:
            out[k] = _num(v)
    return out


_DOMAIN_LINE = re.compile(r"^(?P<name>.+):(?P<kv>keys=.*)$")


def parse_info(text):
    """Parse INFO text into ``{section: {field: value}}`` (section names lower
    case).  Domain lines (``<name>:keys=N,...``) become dicts; the domain name
    may itself contain ':'."""
    sections = {}
    cur = sections.setdefault("", {})
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            cur = sections.setdefault(line[1:].strip().lower(), {})
            continue
        m = _DOMAIN_LINE.match(line)
        if m:
            cur[m.group("name")] = _kv_list(m.group("kv"))
            continue
        k, sep, v = line.partition(":")
        if sep:
            cur[k] = _kv_list(v) if ("=" in v and "," in v) else _num(v)
    return sections


def unescape_name(name):
    """Undo INFO's escaping of domain names (bytes outside printable ASCII,
    and ':' ',' '=' '\\', are written as \\xHH)."""
    if "\\" not in name:
        return name
    raw = name.encode("latin-1", "backslashreplace")
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
    return raw.decode("utf-8", "surrogateescape")


def stats_from_info(info):
    """Build the stats() dict from parsed INFO sections."""
    server = info.get("server", {})
    st = info.get("stats", {})
    ks = info.get("keyspace", {})
    kasi = info.get("kasi", {})
    domains = {}
    for k, v in kasi.items():
        if k.startswith("domain_") and isinstance(v, dict):
            domains[unescape_name(k[len("domain_"):])] = dict(v)
    # A Kasi server lists every domain in its kasi section; its keyspace
    # section repeats the numbered ones as dbN, Redis-style. Only a server
    # without the kasi section (Redis) is read from the keyspace section.
    for name, v in (ks.items() if not domains else ()):
        if isinstance(v, dict) and "keys" in v:
            d = domains.setdefault(unescape_name(name), {})
            d.setdefault("keys", v.get("keys", 0))
            d.setdefault("expires", v.get("expires", 0))
    sets = kasi.get("total_sets")
    if not isinstance(sets, int):
        sets = sum(d.get("sets", 0) for d in domains.values()
                   if isinstance(d.get("sets", 0), int))
    return {
        "uptime": server.get("uptime_in_seconds"),
        "hits": st.get("keyspace_hits", 0),
        "misses": st.get("keyspace_misses", 0),
        "sets": sets,
        "keys": sum(d.get("keys", 0) for d in domains.values()),
        "domains": domains,
    }


# --------------------------------------------------------------------------
class Client:
    """A thread-safe, pooled client for a Kasi server.

    Parameters:
      host, port            TCP address (default localhost:5000)
      password              sent with AUTH on every new connection
      secret                bytes (or str): sign values that need pickle
                            (see __init__)
      allow_unsigned_pickle default False: unsigned pickles are never read
                            or written (see __init__)
      socket_timeout        seconds for each socket read/write (None = wait
                            forever); connect_timeout likewise for connecting
      unix_socket_path      connect over a Unix socket instead of TCP
      max_connections       pool size; callers wait up to pool_timeout
                            seconds for a free connection

    Every method takes ``domain=`` (default "default").  Methods raise
    kasi.errors exceptions: KasiResponseError (server error reply, with the
    server's message), KasiAuthError, ConnectionRefused /
    KasiConnectionError, KasiTimeout.  Idempotent calls are retried once on a
    fresh connection when the connection drops.
    """

    def __init__(self, host="localhost", port=5000, password=None, secret=None,
                 socket_timeout=10.0, unix_socket_path=None, max_connections=64,
                 connect_timeout=5.0, allow_unsigned_pickle=False,
                 pool_timeout=20.0):
        """Values of the safe types (str, bytes, bytearray, int, float,
        complex, bool, None, list, tuple, dict, set, frozenset, Fraction,
        Decimal, datetime.date/time/datetime/timedelta with no tzinfo or a
        datetime.timezone, uuid.UUID; exact types, nested up to 100 levels)
        never use pickle, whatever these two parameters say.

        ``secret``: bytes (or str, taken as UTF-8).  Other values are then
        written as HMAC-SHA256-signed pickles, and only pickles signed with
        this secret are unpickled (others raise SignatureError).  Give every
        client of the server the same secret.

        ``allow_unsigned_pickle``: False by default, with or without a
        secret.  While False, an unsigned pickle (type code ``p``) is never
        unpickled: get() raises UnsafePickleError; and without a secret,
        set() of a value that needs pickle raises UnsafePickleError, naming
        the types the safe codec supports.  True makes get() unpickle
        unsigned values (and set() write them when there is no secret).
        DANGER: anyone who can write a key to the server can then run code
        in this process on its next get(); pass True only when every writer
        is trusted, e.g. while migrating old data to a secret.
        """
        self._codec = Codec(secret, allow_unsigned_pickle)
        kwargs = dict(password=password, socket_timeout=socket_timeout,
                      parser_class=_FullMessageParser, db=0)
        if unix_socket_path:
            conn_class = KasiUnixConnection
            kwargs["path"] = unix_socket_path
        else:
            conn_class = KasiConnection
            kwargs.update(host=host, port=int(port),
                          socket_connect_timeout=connect_timeout)
        self.host, self.port, self.unix_socket_path = host, port, unix_socket_path
        # Domains that a SELECT has succeeded for since the last (re)connect.
        # Writes to any other domain send SELECT on its own first: if that
        # SELECT failed (e.g. max-domains reached) a pipelined write would
        # otherwise run in the connection's previous domain.
        self._known_domains = set()
        conn_class = type(conn_class.__name__, (conn_class,),
                          {"_kasi_known_domains": self._known_domains})
        self._pool = BlockingConnectionPool(
            connection_class=conn_class, max_connections=max_connections,
            timeout=pool_timeout, **kwargs)

    # ------------------------------------------------------------ plumbing
    def _select_arg(self, domain):
        """The argument sent with SELECT for a domain name ("default" -> 0)."""
        return "0" if domain == DEFAULT_DOMAIN else domain

    def _run(self, domain, commands, idempotent=True, write=False):
        """Send ``commands`` (a list of argument tuples) in one write, preceded
        by SELECT when this connection is in another domain, and return the
        list of replies (error replies as ResponseError instances).  Retries
        once on a new connection if the connection fails and the call is
        idempotent (or the failure happened before the request was sent).

        ``write``: the commands modify data.  If the domain has not been
        selected successfully since the last (re)connect, its SELECT then
        goes first on its own, so that a failing SELECT cannot make the
        write land in the connection's previous domain."""
        for attempt in (0, 1):
            try:
                conn = self._pool.get_connection("kasi")
            except _NETWORK_ERRORS as exc:
                if attempt == 0 and not isinstance(exc, redis.TimeoutError):
                    continue  # nothing was sent
                raise _translate(exc) from None
            except ResponseError as exc:  # e.g. AUTH refused while connecting
                raise _translate(exc) from None
            sent = False
            try:
                cmds = list(commands)
                select = domain is not None and conn.kasi_domain != domain
                if select and write and domain != DEFAULT_DOMAIN \
                        and domain not in self._known_domains:
                    conn.send_command("SELECT", self._select_arg(domain))
                    try:
                        conn.read_response()
                    except ResponseError as exc:
                        raise errors.KasiResponseError(
                            "SELECT %s failed: %s" % (domain, exc)) from None
                    conn.kasi_domain = domain
                    self._known_domains.add(domain)
                    select = False
                if select:
                    cmds.insert(0, ("SELECT", self._select_arg(domain)))
                conn.send_packed_command(conn.pack_commands(cmds))
                sent = True
                replies = []
                for _ in cmds:
                    try:
                        replies.append(conn.read_response())
                    except ResponseError as exc:
                        replies.append(exc)
                if select:
                    r = replies.pop(0)
                    if isinstance(r, ResponseError):
                        raise errors.KasiResponseError(
                            "SELECT %s failed: %s" % (domain, r))
                    conn.kasi_domain = domain
                    self._known_domains.add(domain)
                return replies
            except _NETWORK_ERRORS as exc:
                conn.disconnect()
                if attempt == 0 and (idempotent or not sent) \
                        and not isinstance(exc, redis.TimeoutError):
                    continue
                raise _translate(exc) from None
            except errors.KasiError:
                raise  # a failed SELECT: every reply was read, conn is fine
            except BaseException:
                # unknown state (e.g. KeyboardInterrupt mid-read): drop it
                conn.disconnect()
                raise
            finally:
                self._pool.release(conn)

    def _call(self, domain, *args, idempotent=True, write=False):
        reply = self._run(domain, [args], idempotent, write)[0]
        if isinstance(reply, ResponseError):
            raise _translate(reply)
        return reply

    # ------------------------------------------------------------ seed API
    def set(self, name, value, timedelta=None, domain=DEFAULT_DOMAIN):
        """Store ``value`` under ``name``; ``timedelta`` is the time to live
        (a datetime.timedelta or seconds as int/float, ms precision; None =
        no expiry).  Returns True."""
        args = ["SET", _key(name), self._codec.encode(value)]
        ms = _expiry_ms(timedelta)
        if ms is not None:
            args += ["PX", ms]
        self._call(_check_domain(domain), *args, write=True)
        return True

    def get(self, name, domain=DEFAULT_DOMAIN):
        """The value of ``name``, or None if it is missing or expired."""
        return self._codec.decode(self._call(_check_domain(domain), "GET", _key(name)))

    def delete(self, name, domain=DEFAULT_DOMAIN):
        """Remove ``name``; True if it existed."""
        return self._call(_check_domain(domain), "DEL", _key(name), write=True) > 0

    def reset(self, domain=None):
        """Remove every key: in all domains (domain=None) or in one domain."""
        if domain is None:
            self._call(None, "FLUSHALL")
        else:
            self._call(_check_domain(domain), "FLUSHDB", write=True)
        return True

    def shutdown(self):
        """Ask the server to shut down.  Returns True once the server has
        closed the connection."""
        try:
            conn = self._pool.get_connection("kasi")
        except (_NETWORK_ERRORS + (ResponseError,)) as exc:
            raise _translate(exc) from None
        try:
            conn.send_command("SHUTDOWN")
            conn.read_response()
        except ResponseError as exc:
            raise _translate(exc) from None
        except _NETWORK_ERRORS:
            pass  # the server closed the connection: that is the success case
        finally:
            conn.disconnect()
            self._pool.release(conn)
        self._pool.disconnect()
        return True

    def stats(self):
        """Server statistics as a dict: uptime (seconds), hits, misses, sets,
        keys (total) and domains ({name: {keys, expires, hits, misses, sets}})."""
        raw = self._call(None, "INFO")
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return stats_from_info(parse_info(text))

    def info(self, section=None):
        """Raw INFO, parsed into {section: {field: value}}."""
        args = ("INFO",) if section is None else ("INFO", section)
        raw = self._call(None, *args)
        return parse_info(raw.decode("utf-8", "replace"))

    # ------------------------------------------------------------ extras
    def ping(self):
        """True if the server answers PING."""
        return self._call(None, "PING") in (b"PONG", "PONG")

    def exists(self, name, domain=DEFAULT_DOMAIN):
        return self._call(_check_domain(domain), "EXISTS", _key(name)) > 0

    def ttl(self, name, domain=DEFAULT_DOMAIN):
        """Remaining time to live in seconds (float), or None when the key is
        missing or has no expiry (use exists() to tell those apart)."""
        ms = self._call(_check_domain(domain), "PTTL", _key(name))
        return None if ms < 0 else ms / 1000.0

    def expire(self, name, timedelta, domain=DEFAULT_DOMAIN):
        """Set a time to live on an existing key; True if the key exists."""
        return self._call(_check_domain(domain), "PEXPIRE", _key(name),
                          _expiry_ms(timedelta), write=True) == 1

    def persist(self, name, domain=DEFAULT_DOMAIN):
        """Remove the time to live; True if a TTL was removed."""
        return self._call(_check_domain(domain), "PERSIST", _key(name), write=True) == 1

    def touch(self, name, timedelta=None, domain=DEFAULT_DOMAIN):
        """Mark the key as used (TOUCH); with ``timedelta`` also give it that
        new time to live.  True if the key exists."""
        if timedelta is not None:
            return self.expire(name, timedelta, domain)
        return self._call(_check_domain(domain), "TOUCH", _key(name)) > 0

    def incr(self, name, amount=1, domain=DEFAULT_DOMAIN):
        """Atomically add ``amount`` to an integer value (missing = 0) and
        return the new value.  Works on values stored with set(name, <int>)
        and on decimal text written by other clients."""
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError("amount must be an int")
        return self._call(_check_domain(domain), "INCRBY", _key(name), amount,
                          idempotent=False, write=True)

    def decr(self, name, amount=1, domain=DEFAULT_DOMAIN):
        """Atomically subtract ``amount``; returns the new value."""
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError("amount must be an int")
        return self._call(_check_domain(domain), "DECRBY", _key(name), amount,
                          idempotent=False, write=True)

    def add(self, name, value, timedelta=None, domain=DEFAULT_DOMAIN):
        """Store only if ``name`` does not exist (SET NX); True if stored."""
        args = ["SET", _key(name), self._codec.encode(value), "NX"]
        ms = _expiry_ms(timedelta)
        if ms is not None:
            args += ["PX", ms]
        return self._call(_check_domain(domain), *args, idempotent=False,
                          write=True) is not None

    def get_many(self, names, domain=DEFAULT_DOMAIN):
        """{name: value} for the names that exist, in one round trip (MGET)."""
        names = list(names)
        if not names:
            return {}
        raw = self._call(_check_domain(domain), "MGET", *[_key(n) for n in names])
        dec = self._codec.decode
        return {n: dec(v) for n, v in zip(names, raw) if v is not None}

    def set_many(self, mapping, timedelta=None, domain=DEFAULT_DOMAIN):
        """Store every item of ``mapping`` in one round trip (MSET, or one
        SET ... PX per key when there is an expiry).  Returns True."""
        items = list(mapping.items())
        if not items:
            return True
        enc = self._codec.encode
        ms = _expiry_ms(timedelta)
        if ms is None:
            args = ["MSET"]
            for k, v in items:
                args += [_key(k), enc(v)]
            cmds = [tuple(args)]
        else:
            cmds = [("SET", _key(k), enc(v), "PX", ms) for k, v in items]
        for r in self._run(_check_domain(domain), cmds, write=True):
            if isinstance(r, ResponseError):
                raise _translate(r)
        return True

    def keys(self, pattern="*", domain=DEFAULT_DOMAIN, count=500):
        """Iterate over the key names matching a glob ``pattern`` (SCAN; keys
        are str, or bytes when not UTF-8).  Keys added or removed during the
        scan may or may not be seen, and like Redis's SCAN a key may be
        reported more than once."""
        return self._scan(_check_domain(domain), _key(pattern), int(count))

    def _scan(self, domain, pat, count):
        cursor = b"0"
        while True:
            reply = self._call(domain, "SCAN", cursor, "MATCH", pat, "COUNT", count)
            cursor, batch = reply[0], reply[1]
            for k in batch:
                yield _decode_key(k)
            if cursor in (b"0", 0, "0"):
                return

    # ------------------------------------------------------------ lifecycle
    def close(self):
        """Close every pooled connection (the client reconnects if used)."""
        self._pool.disconnect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        where = self.unix_socket_path or "%s:%s" % (self.host, self.port)
        return "<kasi.Client %s>" % where
