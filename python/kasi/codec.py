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
    v  structured payload = one value in the SAFE format below (never code)
    p  pickle     payload = Python pickle (unsigned; read only with
                  allow_unsigned_pickle=True)
    h  pickle     payload = 32-byte HMAC-SHA256(secret, pickle) + pickle

Which encoding set() uses: str, bytes, int, float, bool and None keep the
plain encodings above (other Redis clients read them).  Every other value
made only of the SAFE types below is written with code ``v``, with or
without a secret.  Anything else (other classes, subclasses of the safe
types, a tzinfo that is not datetime.timezone, and the limits below) needs
pickle: signed (``h``) when the client has a secret, unsigned (``p``) only
with allow_unsigned_pickle=True, and otherwise set() raises
UnsafePickleError.  Unsigned pickles are never read unless
allow_unsigned_pickle=True.

SAFE FORMAT (code ``v``).  The payload is exactly one *item*; an item is a
one-byte ASCII tag followed by its body.  ``len`` is an unsigned LEB128
varint (7 bits per byte, least significant group first, high bit = more
bytes follow; at most 9 bytes).  ``intbody`` is ``len`` + that many bytes of
two's-complement little-endian integer (no bytes = 0).  Fixed-size numbers
are big-endian.

    tag  type                 body
    N    None                 -
    T/F  True / False         -
    i    int                  intbody
    f    float                8 bytes IEEE-754 binary64
    c    complex              8 bytes real + 8 bytes imag (binary64)
    s    str                  len + UTF-8 (lone surrogates allowed)
    b    bytes                len + bytes
    a    bytearray            len + bytes
    l    list                 len (item count) + the items
    t    tuple                len (item count) + the items
    e    set                  len (item count) + the items
    z    frozenset            len (item count) + the items
    d    dict                 len (pair count) + key item, value item, ...
                              (insertion order)
    q    fractions.Fraction   intbody numerator + intbody denominator (> 0),
                              each at most 4096 bytes
    m    decimal.Decimal      len + ASCII str(Decimal), e.g. "1.10", "-0",
                              "1E+5", "sNaN", "-Infinity"
    D    datetime.date        u16 year, u8 month, u8 day
    H    datetime.time        u8 hour, minute, second, u32 microsecond,
                              u8 fold, tz
    W    datetime.datetime    u16 year, u8 month, day, hour, minute, second,
                              u32 microsecond, u8 fold, tz
    R    datetime.timedelta   i32 days, u32 seconds, u32 microseconds
    U    uuid.UUID            16 bytes (UUID.bytes), u8 is_safe (0 unknown,
                              1 safe, 2 unsafe)

    tz = 0x00 (naive) | 0x01 + i64 offset in microseconds (a
         datetime.timezone) | 0x02 + i64 offset + len + UTF-8 name
         (a datetime.timezone with its own name)

Example: ['a', 'd'] is stored as C1 'v' 'l' 02 's' 01 'a' 's' 01 'd'.

Limits: containers nest at most 100 levels.  A dict's keys, or a set's members,
may include at most 64 repeated hash values (more would make building it
quadratic; such values go to pickle instead).  Decoding builds only the
types above (no classes are looked up, nothing is called by name), without
recursion; it checks every length and item count against the bytes left
before reading, so memory stays proportional to the payload, and raises
KasiDecodeError for any malformed payload (unknown tag, truncation,
trailing bytes, invalid dates, unhashable set members or dict keys, ...).
A future incompatible layout would get a new type code, not a new meaning
for ``v``.
"""

import datetime as _dt
import decimal
import fractions
import hashlib
import hmac
import itertools
import pickle
import re
import struct
import uuid

from .errors import KasiDecodeError, SignatureError, UnsafePickleError

MARKER = 0xC1
_M = b"\xc1"
PICKLE_PROTOCOL = 5
MAC_LEN = 32
INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1
MAX_DEPTH = 100            # container levels the safe codec accepts
FRACTION_PART_MAX = 4096   # bytes of a Fraction's numerator / denominator
HASH_REPEATS_MAX = 64      # equal hashes allowed among a dict's keys / a set
_VARINT_MAX = 9            # bytes of a length (63 bits)
_chain = itertools.chain.from_iterable

_CANON_INT = re.compile(rb"-?(?:0|[1-9][0-9]{0,18})\Z")

_TRUE = _M + b"T"
_FALSE = _M + b"F"
_NONE = _M + b"N"
_SAFE = _M + b"v"

SAFE_TYPES_TEXT = (
    "str, bytes, bytearray, int, float, complex, bool, None, list, tuple, "
    "dict, set, frozenset, fractions.Fraction, decimal.Decimal, "
    "datetime.date/time/datetime/timedelta (tzinfo None or a "
    "datetime.timezone) and uuid.UUID - exact types, not subclasses, nested "
    "up to %d levels" % MAX_DEPTH)


def _is_canonical_int(data):
    """True if *data* is the decimal text INCR accepts and int64 holds."""
    if len(data) > 20 or not _CANON_INT.match(data) or data == b"-0":
        return False
    return INT64_MIN <= int(data) <= INT64_MAX


# ==========================================================================
# The safe structured codec (type code 'v').  Encoders take (value, out,
# depth) and append byte strings to the list ``out``; see "safe decoding"
# for the decoders.
class _NotSafe(Exception):
    """Internal: the value cannot be written with the safe codec (args[0]
    says why); it needs pickle."""


_LEN1 = [bytes([n]) for n in range(128)]


def _uvarint(n):
    """Unsigned LEB128 encoding of n >= 0."""
    if n < 0x80:
        return _LEN1[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _int_bytes(n):
    """Two's-complement little-endian bytes of n (b'' for 0)."""
    if not n:
        return b""
    return n.to_bytes((n.bit_length() + 8) >> 3, "little", signed=True)


def _intbody(n):
    b = _int_bytes(n)
    return _uvarint(len(b)) + b


# Small ints and short strings are the common case: precompute headers.
_SMALL_INTS = {n: b"i" + _intbody(n) for n in range(-256, 1024)}
_STR_HDR = [b"s" + _LEN1[n] for n in range(128)]

_F64 = struct.Struct(">d")
_C128 = struct.Struct(">dd")
_DATE = struct.Struct(">HBB")
_TIME = struct.Struct(">BBBIB")
_DATETIME = struct.Struct(">HBBBBBIB")
_DELTA = struct.Struct(">iII")
_I64 = struct.Struct(">q")

_SAFE_UUID_CODE = {uuid.SafeUUID.unknown: 0, uuid.SafeUUID.safe: 1,
                   uuid.SafeUUID.unsafe: 2}
_SAFE_UUID = {v: k for k, v in _SAFE_UUID_CODE.items()}


def _unsupported(value):
    t = type(value)
    return _NotSafe("type %s.%s is not supported" % (t.__module__, t.__qualname__))


def _enc_item(value, out, depth):
    fn = _ENCODERS.get(type(value))
    if fn is None:
        raise _unsupported(value)
    fn(value, out, depth)


def _e_none(value, out, depth):
    out.append(b"N")


def _e_bool(value, out, depth):
    out.append(b"T" if value else b"F")


def _e_int(value, out, depth):
    small = _SMALL_INTS.get(value)
    out.append(small if small is not None else b"i" + _intbody(value))


def _e_float(value, out, depth):
    out.append(b"f" + _F64.pack(value))


def _e_complex(value, out, depth):
    out.append(b"c" + _C128.pack(value.real, value.imag))


def _e_str(value, out, depth):
    data = value.encode("utf-8", "surrogatepass")
    n = len(data)
    out.append(_STR_HDR[n] if n < 128 else b"s" + _uvarint(n))
    out.append(data)


def _blob_encoder(tag):
    def enc(value, out, depth):
        out.append(tag + _uvarint(len(value)))
        out.append(bytes(value))
    return enc


def _check_depth(depth):
    if depth >= MAX_DEPTH:
        raise _NotSafe("containers nested deeper than %d levels" % MAX_DEPTH)


def _e_run(items, out, depth):
    """Encode every value of the iterable ``items`` (the hot loop: str, int,
    float, bool and None are handled inline, the rest through _ENCODERS)."""
    append, get = out.append, _ENCODERS.get
    small_ints, str_hdr, f64 = _SMALL_INTS.get, _STR_HDR, _F64.pack
    for item in items:
        t = type(item)
        if t is str:
            data = item.encode("utf-8", "surrogatepass")
            n = len(data)
            append(str_hdr[n] if n < 128 else b"s" + _uvarint(n))
            append(data)
        elif t is int:
            small = small_ints(item)
            append(small if small is not None else b"i" + _intbody(item))
        elif t is float:
            append(b"f" + f64(item))
        elif item is None:
            append(b"N")
        elif t is bool:
            append(b"T" if item else b"F")
        else:
            fn = get(t)
            if fn is None:
                raise _unsupported(item)
            fn(item, out, depth)


def _seq_encoder(tag, snapshot=False, hashed=False):
    def enc(value, out, depth):
        _check_depth(depth)
        if snapshot:  # a list changed by another thread keeps its count right
            value = tuple(value)
        if hashed and not _hashes_ok(value):
            raise _NotSafe("too many set members with equal hashes")
        out.append(tag + _uvarint(len(value)))
        _e_run(value, out, depth + 1)
    return enc


def _e_dict(value, out, depth):
    _check_depth(depth)
    if not _hashes_ok(value):
        raise _NotSafe("too many dict keys with equal hashes")
    out.append(b"d" + _uvarint(len(value)))
    _e_run(_chain(value.items()), out, depth + 1)  # key, value, key, ...


def _hashes_ok(keys):
    """False if more than HASH_REPEATS_MAX of the keys share a hash value
    with another key.  Distinct keys with equal hashes (easy to make: ints
    that differ by a multiple of 2**61-1) make building a dict or set take
    quadratic time, so the decoder refuses them, and the encoder leaves such
    values to pickle so that whatever it writes can be read back.  The
    encoder never writes a key twice, so real data has (almost) no
    repeats."""
    if len(keys) <= HASH_REPEATS_MAX:
        return True
    return len(keys) - len(set(map(hash, keys))) <= HASH_REPEATS_MAX


def _e_fraction(value, out, depth):
    num, den = _int_bytes(value.numerator), _int_bytes(value.denominator)
    if len(num) > FRACTION_PART_MAX or len(den) > FRACTION_PART_MAX:
        raise _NotSafe("Fraction parts larger than %d bytes" % FRACTION_PART_MAX)
    out.append(b"q" + _uvarint(len(num)) + num + _uvarint(len(den)) + den)


def _e_decimal(value, out, depth):
    text = str(value).encode("ascii")
    out.append(b"m" + _uvarint(len(text)) + text)


def _tz_bytes(tz):
    if tz is None:
        return b"\x00"
    if type(tz) is not _dt.timezone:
        raise _NotSafe("tzinfo of type %s is not a datetime.timezone"
                       % type(tz).__name__)
    off = tz.utcoffset(None)
    us = (off.days * 86400 + off.seconds) * 1000000 + off.microseconds
    name = tz.tzname(None)
    if name == _dt.timezone(off).tzname(None):
        return b"\x01" + _I64.pack(us)
    raw = name.encode("utf-8", "surrogatepass")
    return b"\x02" + _I64.pack(us) + _uvarint(len(raw)) + raw


def _e_date(value, out, depth):
    out.append(b"D" + _DATE.pack(value.year, value.month, value.day))


def _e_time(value, out, depth):
    out.append(b"H" + _TIME.pack(value.hour, value.minute, value.second,
                                 value.microsecond, value.fold)
               + _tz_bytes(value.tzinfo))


def _e_datetime(value, out, depth):
    out.append(b"W" + _DATETIME.pack(
        value.year, value.month, value.day, value.hour, value.minute,
        value.second, value.microsecond, value.fold) + _tz_bytes(value.tzinfo))


def _e_timedelta(value, out, depth):
    out.append(b"R" + _DELTA.pack(value.days, value.seconds, value.microseconds))


def _e_uuid(value, out, depth):
    out.append(b"U" + value.bytes + _LEN1[_SAFE_UUID_CODE.get(value.is_safe, 0)])


_ENCODERS = {
    type(None): _e_none, bool: _e_bool, int: _e_int, float: _e_float,
    complex: _e_complex, str: _e_str, bytes: _blob_encoder(b"b"),
    bytearray: _blob_encoder(b"a"), list: _seq_encoder(b"l", snapshot=True),
    tuple: _seq_encoder(b"t"), set: _seq_encoder(b"e", hashed=True),
    frozenset: _seq_encoder(b"z", hashed=True), dict: _e_dict,
    fractions.Fraction: _e_fraction, decimal.Decimal: _e_decimal,
    _dt.date: _e_date, _dt.time: _e_time, _dt.datetime: _e_datetime,
    _dt.timedelta: _e_timedelta, uuid.UUID: _e_uuid,
}


def safe_encode(value):
    """The safe-format payload (without the 0xC1 'v' header) of ``value``.
    Raises _NotSafe if the value contains anything the format cannot hold."""
    out = []
    _enc_item(value, out, 0)
    return b"".join(out)


# ------------------------------------------------------------ safe decoding
# Scalar decoders take (data, pos) with pos just after the tag and return
# (value, pos after the item).  Containers are read by the loop in
# _d_value, without recursion.
def _corrupt(what):
    return KasiDecodeError("corrupt kasi structured value: %s" % what)


def _d_len(data, pos):
    """Read a LEB128 length at pos; return (length, pos after it)."""
    b = data[pos]
    if b < 0x80:
        return b, pos + 1
    n, shift, end = b & 0x7F, 7, pos + _VARINT_MAX
    pos += 1
    while True:
        if pos >= end:
            raise _corrupt("length field longer than %d bytes" % _VARINT_MAX)
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, pos
        shift += 7


def _d_span(data, pos):
    """Read a length and check that many bytes follow; return (start, end)."""
    n, pos = _d_len(data, pos)
    end = pos + n
    if end > len(data):
        raise _corrupt("length %d exceeds the %d bytes left" % (n, len(data) - pos))
    return pos, end


def _fixed(data, pos, size):
    end = pos + size
    if end > len(data):
        raise _corrupt("truncated")
    return end


def _d_bad(data, pos):
    raise _corrupt("unknown tag 0x%02x at offset %d" % (data[pos - 1], pos - 1))


def _d_int(data, pos):
    start, end = _d_span(data, pos)
    return int.from_bytes(data[start:end], "little", signed=True), end


def _d_float(data, pos):
    end = _fixed(data, pos, 8)
    return _F64.unpack_from(data, pos)[0], end


def _d_complex(data, pos):
    end = _fixed(data, pos, 16)
    real, imag = _C128.unpack_from(data, pos)
    return complex(real, imag), end


def _d_str(data, pos):
    start, end = _d_span(data, pos)
    return data[start:end].decode("utf-8", "surrogatepass"), end


def _d_bytes(data, pos):
    start, end = _d_span(data, pos)
    return data[start:end], end


def _d_bytearray(data, pos):
    start, end = _d_span(data, pos)
    return bytearray(data[start:end]), end


def _d_fraction(data, pos):
    parts = []
    for _ in (0, 1):
        start, pos = _d_span(data, pos)
        if pos - start > FRACTION_PART_MAX:
            raise _corrupt("Fraction part longer than %d bytes" % FRACTION_PART_MAX)
        parts.append(int.from_bytes(data[start:pos], "little", signed=True))
    if parts[1] <= 0:
        raise _corrupt("Fraction denominator must be positive")
    return fractions.Fraction(parts[0], parts[1]), pos


_DECIMAL_TEXT = re.compile(
    rb"-?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    rb"|Infinity|s?NaN[0-9]*)\Z")


def _d_decimal(data, pos):
    start, end = _d_span(data, pos)
    text = data[start:end]
    if not _DECIMAL_TEXT.match(text):
        raise _corrupt("bad Decimal text %r" % text[:40])
    return decimal.Decimal(text.decode("ascii")), end


def _d_tz(data, pos):
    kind = data[pos]
    pos += 1
    if kind == 0:
        return None, pos
    if kind not in (1, 2):
        raise _corrupt("bad tzinfo kind %d" % kind)
    end = _fixed(data, pos, 8)
    off = _dt.timedelta(microseconds=_I64.unpack_from(data, pos)[0])
    if kind == 1:
        return _dt.timezone(off), end
    start, end = _d_span(data, end)
    return _dt.timezone(off, data[start:end].decode("utf-8", "surrogatepass")), end


def _d_date(data, pos):
    end = _fixed(data, pos, _DATE.size)
    return _dt.date(*_DATE.unpack_from(data, pos)), end


def _d_time(data, pos):
    end = _fixed(data, pos, _TIME.size)
    h, mi, s, us, fold = _TIME.unpack_from(data, pos)
    tz, end = _d_tz(data, end)
    return _dt.time(h, mi, s, us, tz, fold=fold), end


def _d_datetime(data, pos):
    end = _fixed(data, pos, _DATETIME.size)
    y, mo, d, h, mi, s, us, fold = _DATETIME.unpack_from(data, pos)
    tz, end = _d_tz(data, end)
    return _dt.datetime(y, mo, d, h, mi, s, us, tz, fold=fold), end


def _d_timedelta(data, pos):
    end = _fixed(data, pos, _DELTA.size)
    days, seconds, us = _DELTA.unpack_from(data, pos)
    if seconds >= 86400 or us >= 1000000:
        raise _corrupt("timedelta fields out of range")
    return _dt.timedelta(days, seconds, us), end


def _d_uuid(data, pos):
    end = _fixed(data, pos, 17)
    safe = _SAFE_UUID.get(data[pos + 16])
    if safe is None:
        raise _corrupt("bad UUID is_safe code %d" % data[pos + 16])
    return uuid.UUID(bytes=data[pos:pos + 16], is_safe=safe), end


_DECODERS = [_d_bad] * 256
for _tag, _fn in {
        b"i": _d_int, b"f": _d_float, b"c": _d_complex, b"s": _d_str,
        b"b": _d_bytes, b"a": _d_bytearray, b"q": _d_fraction,
        b"m": _d_decimal, b"D": _d_date, b"H": _d_time, b"W": _d_datetime,
        b"R": _d_timedelta, b"U": _d_uuid}.items():
    _DECODERS[_tag[0]] = _fn
del _tag, _fn

_CONSTS = {0x4E: None, 0x54: True, 0x46: False}                # N T F
_CONTAINERS = {0x6C: list, 0x74: tuple, 0x65: set, 0x7A: frozenset,
               0x64: dict}                                     # l t e z d


def _build(tag, items):
    """The container for tag from its decoded items (dicts: key, value, ...)."""
    if tag == 0x6C:
        return items
    if tag == 0x64:
        if not _hashes_ok(items[::2]):
            raise _corrupt("too many dict keys with equal hashes")
        pairs = iter(items)
        return dict(zip(pairs, pairs))
    if tag != 0x74 and not _hashes_ok(items):
        raise _corrupt("too many set members with equal hashes")
    return _CONTAINERS[tag](items)  # unhashable members: TypeError


def _d_value(data, pos):
    """Read one item at pos; return (value, pos after it).

    One loop with an explicit stack of open containers (no recursion).
    ``items`` collects the current container's values and ``left`` counts
    the values still to read into it.  Short str / int items, floats and
    constants are read inline; other scalars go through _DECODERS.

    Short str / int slices are taken without checking the end first: a
    slice past the end is merely short, and pos then points past the end,
    which the next data[pos] (IndexError: truncated) or safe_decode's final
    ``pos == len(data)`` check rejects.  pos never moves backwards, so such
    a value can never be returned."""
    stack = []                      # (items, append, tag, left) of parents
    items = []
    append = items.append
    tag_open, left = None, 1        # the root "container" holds one value
    table, consts, containers = _DECODERS, _CONSTS, _CONTAINERS
    from_bytes, f64 = int.from_bytes, _F64.unpack_from
    while True:
        if not left:                # the current container is complete
            if tag_open is None:
                return items[0], pos
            value = _build(tag_open, items)
            items, append, tag_open, left = stack.pop()
            append(value)
            continue
        left -= 1
        tag = data[pos]
        if tag == 0x73 or tag == 0x69:          # 's' / 'i'
            start = pos + 2
            end = start + data[pos + 1]
            if end - start < 0x80:              # one-byte length
                pos = end
                if tag == 0x73:
                    append(data[start:end].decode("utf-8", "surrogatepass"))
                else:
                    append(from_bytes(data[start:end], "little", signed=True))
                continue
        elif tag == 0x66:                       # 'f': struct.error if short
            append(f64(data, pos + 1)[0])
            pos += 9
            continue
        elif tag in consts:
            append(consts[tag])
            pos += 1
            continue
        elif tag in containers:
            if len(stack) >= MAX_DEPTH:
                raise _corrupt("containers nested deeper than %d levels"
                               % MAX_DEPTH)
            n, pos = _d_len(data, pos + 1)
            if tag == 0x64:
                n *= 2                          # keys and values
            if n > len(data) - pos:             # every item takes >= 1 byte
                raise _corrupt("%d items cannot fit in the %d bytes left"
                               % (n, len(data) - pos))
            stack.append((items, append, tag_open, left))
            items = []
            append = items.append
            tag_open, left = tag, n
            continue
        value, pos = table[tag](data, pos + 1)
        append(value)


def safe_decode(data):
    """Decode a safe-format payload (without the 0xC1 'v' header).  Raises
    KasiDecodeError, and nothing else, for any malformed input."""
    if type(data) is not bytes:
        data = bytes(data)
    try:
        value, pos = _d_value(data, 0)
    except KasiDecodeError:
        raise
    except IndexError:
        raise _corrupt("truncated") from None
    except Exception as exc:  # bad dates, unhashable keys, bad UTF-8, ...
        raise _corrupt("%s: %s" % (type(exc).__name__, exc)) from None
    if pos != len(data):
        raise _corrupt("%d trailing bytes" % (len(data) - pos))
    return value


# ==========================================================================
class Codec:
    """Encode Python values to bytes for the server and back.

    ``secret``: bytes (or str, taken as UTF-8).  With a secret, values that
    need pickle are written signed with HMAC-SHA256 and only correctly signed
    pickles are ever unpickled.

    ``allow_unsigned_pickle``: whether unsigned pickles may be read (and,
    when there is no secret, written).  False by default, with or without a
    secret.  WARNING: unpickling data is only safe when every writer to the
    server is trusted; anyone able to write a key can run code in a process
    that unpickles it.

    Values made of the safe types (see the module docstring) never need
    pickle: they use the structured code ``v`` in every configuration.
    """

    def __init__(self, secret=None, allow_unsigned_pickle=False):
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if secret is not None and not isinstance(secret, (bytes, bytearray)):
            raise TypeError("secret must be bytes or str")
        if secret is not None and len(secret) == 0:
            raise ValueError("secret must not be empty")
        self.secret = bytes(secret) if secret is not None else None
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
        try:
            return _SAFE + safe_encode(value)
        except _NotSafe as exc:
            return self._encode_pickle(value, exc.args[0])

    def _encode_pickle(self, value, reason):
        if self.secret is None and not self.allow_unsigned_pickle:
            raise UnsafePickleError(
                "cannot store a value of type %s without pickle (%s). The safe "
                "codec stores %s. To store other objects, give every client "
                "the same secret=... (values are then HMAC-signed pickles), or "
                "pass allow_unsigned_pickle=True if every writer to the server "
                "is trusted." % (type(value).__name__, reason, SAFE_TYPES_TEXT))
        data = pickle.dumps(value, protocol=PICKLE_PROTOCOL)
        if self.secret is not None:
            mac = hmac.new(self.secret, data, hashlib.sha256).digest()
            return _M + b"h" + mac + data
        return _M + b"p" + data

    # ------------------------------------------------------------- decoding
    def decode(self, data):
        if data is None:
            return None
        if data[:1] == _M and len(data) >= 2:
            code = data[1:2]
            payload = data[2:]
            handler = _DECODERS_BY_CODE.get(code)
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

    def _dec_safe(self, payload):
        return safe_decode(payload)

    def _dec_pickle(self, payload):
        if not self.allow_unsigned_pickle:
            raise UnsafePickleError(
                "refusing to unpickle an unsigned value: unpickling runs code "
                "chosen by whoever wrote the key. Either give every client the "
                "same secret=... (objects are then written as HMAC-signed "
                "pickles, which are verified before unpickling), or pass "
                "allow_unsigned_pickle=True if every writer to the server is "
                "trusted.")
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


_DECODERS_BY_CODE = {
    b"b": Codec._dec_bytes,
    b"s": Codec._dec_str,
    b"u": Codec._dec_ustr,
    b"i": Codec._dec_int,
    b"f": Codec._dec_float,
    b"T": Codec._dec_const(True),
    b"F": Codec._dec_const(False),
    b"N": Codec._dec_const(None),
    b"v": Codec._dec_safe,
    b"p": Codec._dec_pickle,
    b"h": Codec._dec_signed,
}
del Codec._dec_const
