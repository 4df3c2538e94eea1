"""Values of 16 KB and more are sent straight from where they are stored.
The reply must stay exactly the value at the time of the GET, whatever the
pipeline does to the key right after."""
import pytest

import kasi_harness as H
from kasi_harness import bulk

BIG = 100 * 1024


def test_get_then_overwrite_delete_append_in_one_pipeline(raw):
    a, b = b"a" * BIG, b"b" * BIG
    raw.cmd_raw("SET", "zc", a)
    raw.send(b"".join([
        H.encode_command("GET", "zc"), H.encode_command("APPEND", "zc", "tail"), H.encode_command("GET", "zc"),
        H.encode_command("SET", "zc", b), H.encode_command("GET", "zc"), H.encode_command("DEL", "zc"),
        H.encode_command("GET", "zc"), H.encode_command("SETRANGE", "zc", "0", b), H.encode_command("GETRANGE", "zc", "0", "3"),
    ]))
    assert raw.read_raw() == bulk(a)
    assert raw.read_raw() == b":%d\r\n" % (BIG + 4)
    assert raw.read_raw() == bulk(a + b"tail")
    assert raw.read_raw() == b"+OK\r\n"
    assert raw.read_raw() == bulk(b)
    assert raw.read_raw() == b":1\r\n"
    assert raw.read_raw() == b"$-1\r\n"
    assert raw.read_raw() == b":%d\r\n" % BIG
    assert raw.read_raw() == bulk(b"bbbb")


def test_many_big_replies_interleaved_with_small(raw):
    vals = [bytes([65 + i % 26]) * (BIG + i) for i in range(40)]
    for i, v in enumerate(vals):
        raw.cmd_raw("SET", "z%d" % i, v)
    cmds = []
    for i in range(40):
        cmds += [H.encode_command("GET", "z%d" % i), H.encode_command("PING"), H.encode_command("MGET", "z%d" % i, "nope")]
    raw.send(b"".join(cmds))
    for i, v in enumerate(vals):
        assert raw.read_raw() == bulk(v)
        assert raw.read_raw() == b"+PONG\r\n"
        assert raw.read_raw() == b"*2\r\n" + bulk(v) + b"$-1\r\n"


def test_slow_reader_keeps_value_alive_after_flush(srv):
    """A client that has not read its big replies yet still gets the right
    bytes after the keys are flushed and overwritten by another client."""
    slow = srv.raw()
    other = srv.raw()
    try:
        other.cmd_raw("SET", "big", b"x" * (4 * 1024 * 1024))

        def processed():
            info = other.cmd("INFO", "stats").decode()
            return int(info.split("total_commands_processed:")[1].split()[0])

        before = processed()
        slow.send(H.encode_command("GET", "big"))
        # the GET has run (the INFO calls count too) before the key goes away
        assert H.wait_for(lambda: processed() >= before + 3, 5.0, 0.01)
        other.cmd_raw("FLUSHALL")
        other.cmd_raw("SET", "big", b"y" * (4 * 1024 * 1024))
        assert slow.read_raw() == bulk(b"x" * (4 * 1024 * 1024))
        assert slow.cmd_raw("GET", "big") == bulk(b"y" * (4 * 1024 * 1024))
    finally:
        slow.close()
        other.close()
