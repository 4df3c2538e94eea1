"""Value encoding used by the kasi client (see python/README-client.md).

Summary (byte level)::

    stored value                              get() returns
    ----------------------------------------  -----------------------------
    0xC1 <code> <payload>                     typed value, see TYPE CODES
    canonical signed 64-bit decimal integer   int
    any other valid UTF-8                     str
    anything else                             bytes

0xC1 can never occur in valid UTF-8, so the marker never collides with text.

TYPE CODES (one ASCII byte after 0xC1):

    b  bytes      payload = the bytes (only used when the raw bytes would be
                  read back as something else: valid UTF-8, or starting 0xC1)
    s  str        payload = UTF-8 (only used for text that looks like a
                  canonical integer, e.g. "5", so that it reads back as str)
    u  str        payload = UTF-8 with surrogates allowed (lone surrogates)
    i  int        payload = ASCII decimal (ints outside signed 64-bit)
    f  float      payload = ASCII, Python repr(): "0.1", "-0.0", "inf", "nan"
    T  True       no payload
    F  False      no payload
    N  None       no payload
    p  pickle     payload = Python pickle (unsigned)
    h  pickle     payload = 32-byte HMAC-SHA256(secret, pickle) + pickle
"""

import hashlib
import hmac
import pickle
import re

from .errors import KasiDecodeError, SignatureError, UnsafePickleError

MARKER = 0xC1
_M = b"\xc1"
PICKLE_PROTOCOL = 5
MAC_LEN = 32
INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1

_CANON_INT = re.compile(rb"-?(?:0|[1-9][0-9]{0,18})\Z")

_TRUE = _M + b"T"
_FALSE = _M + b"F"
_NONE = _M + b"N"


def _is_canonical_int(data):
    """True if *data* is the decimal text INCR accepts and int64 holds."""
    if len(data) > 20 or not _CANON_INT.match(data) or data == b"-0":
        return False
    return INT64_MIN <= int(data) <= INT64_MAX


class Codec:
    """Encode Python values to bytes for the server and back.

    ``secret``: bytes (or str, taken as UTF-8).  With a secret, pickled values
    are written signed with HMAC-SHA256 and only correctly signed pickles are
    ever unpickled.

    ``allow_unsigned_pickle``: whether unsigned pickles may be read (and, when
    there is no secret, written).  Defaults to True without a secret and False
    with one.  WARNING: unpickling data is only safe when every writer to the
    server is trusted; anyone able to write a key can run code in a process
    that unpickles it.  Use a secret when that is not the case.
    """

    def __init__(self, secret=None, allow_unsigned_pickle=None):
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if secret is not None and not isinstance(secret, (bytes, bytearray)):
            raise TypeError("secret must be bytes or str")
        if secret is not None and len(secret) == 0:
            raise ValueError("secret must not be empty")
        self.secret = bytes(secret) if secret is not None else None
        if allow_unsigned_pickle is None:
            allow_unsigned_pickle = self.secret is None
        self.allow_unsigned_pickle = bool(allow_unsigned_pickle)

    # ------------------------------------------------------------- encoding
    def encode(self, value):
        t = type(value)
        if t is str:
            try:
                data = value.encode("utf-8")
            except UnicodeEncodeError:
                return _M + b"u" + value.encode("utf-8", "surrogatepass")
            if _is_canonical_int(data):
                return _M + b"s" + data
            return data
        if t is bytes:
            if value[:1] == _M:
                return _M + b"b" + value
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return value
            return _M + b"b" + value
        if t is int:
            if INT64_MIN <= value <= INT64_MAX:
                return str(value).encode("ascii")
            try:
                return _M + b"i" + str(value).encode("ascii")
            except ValueError:  # more digits than sys.get_int_max_str_digits
                pass
        elif t is bool:
            return _TRUE if value else _FALSE
        elif value is None:
            return _NONE
        elif t is float:
            return _M + b"f" + repr(value).encode("ascii")
        return self._encode_pickle(value)

    def _encode_pickle(self, value):
        data = pickle.dumps(value, protocol=PICKLE_PROTOCOL)
        if self.secret is not None:
            mac = hmac.new(self.secret, data, hashlib.sha256).digest()
            return _M + b"h" + mac + data
        if not self.allow_unsigned_pickle:
            raise UnsafePickleError(
                "value of type %s needs pickle, but this client has no secret "
                "and allow_unsigned_pickle=False" % type(value).__name__)
        return _M + b"p" + data

    # ------------------------------------------------------------- decoding
    def decode(self, data):
        if data is None:
            return None
        if data[:1] == _M and len(data) >= 2:
            code = data[1:2]
            payload = data[2:]
            handler = _DECODERS.get(code)
            if handler is not None:
                return handler(self, payload)
            return data  # not ours: unknown type code, hand back raw bytes
        if _is_canonical_int(data):
            return int(data)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data

    def _dec_bytes(self, payload):
        return payload

    def _dec_str(self, payload):
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise KasiDecodeError("corrupt kasi str value: %s" % exc) from None

    def _dec_ustr(self, payload):
        try:
            return payload.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise KasiDecodeError("corrupt kasi str value: %s" % exc) from None

    def _dec_int(self, payload):
        try:
            return int(payload.decode("ascii"))
        except ValueError:
            raise KasiDecodeError("corrupt kasi int value %r" % payload[:40]) from None

    def _dec_float(self, payload):
        try:
            return float(payload.decode("ascii"))
        except ValueError:
            raise KasiDecodeError("corrupt kasi float value %r" % payload[:40]) from None

    def _dec_const(value):
        def dec(self, payload):
            if payload:
                raise KasiDecodeError("corrupt kasi constant (trailing bytes)")
            return value
        return dec

    def _dec_pickle(self, payload):
        if not self.allow_unsigned_pickle:
            raise UnsafePickleError(
                "refusing to unpickle an unsigned value (this client requires "
                "HMAC-signed pickles; pass allow_unsigned_pickle=True to accept "
                "unsigned ones from trusted writers)")
        return self._loads(payload)

    def _dec_signed(self, payload):
        if self.secret is None:
            raise SignatureError(
                "value is an HMAC-signed pickle but this client has no secret")
        if len(payload) < MAC_LEN:
            raise SignatureError("signed value is truncated")
        mac, data = payload[:MAC_LEN], payload[MAC_LEN:]
        good = hmac.new(self.secret, data, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, good):
            raise SignatureError(
                "HMAC-SHA256 signature mismatch: value was tampered with or "
                "written with another secret; refusing to unpickle")
        return self._loads(data)

    @staticmethod
    def _loads(data):
        try:
            return pickle.loads(data)
        except Exception as exc:
            raise KasiDecodeError("cannot unpickle value: %r" % exc) from exc


_DECODERS = {
    b"b": Codec._dec_bytes,
    b"s": Codec._dec_str,
    b"u": Codec._dec_ustr,
    b"i": Codec._dec_int,
    b"f": Codec._dec_float,
    b"T": Codec._dec_const(True),
    b"F": Codec._dec_const(False),
    b"N": Codec._dec_const(None),
    b"p": Codec._dec_pickle,
    b"h": Codec._dec_signed,
}
del Codec._dec_const
