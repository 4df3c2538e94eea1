"""Values of 2 KB and more live in a segment of their own and are sent
straight from it. The reply must stay exactly the value at the time of the
GET, whatever the pipeline does to the key right after. The sizes straddle
the threshold: 2,047 bytes are copied, 2,048 and more are not."""
import pytest

import kasi_harness as H
from kasi_harness import bulk

BIG = 100 * 1024
SIZES = [2047, 2048, 4096, BIG]


@pytest.mark.parametrize("size", SIZES)
def test_get_then_overwrite_delete_append_in_one_pipeline(raw, size):
    a, b = b"a" * size, b"b" * size
    raw.cmd_raw("SET", "zc", a)
    raw.send(b"".join([
        H.encode_command("GET", "zc"), H.encode_command("APPEND", "zc", "tail"), H.encode_command("GET", "zc"),
        H.encode_command("SET", "zc", b), H.encode_command("GET", "zc"), H.encode_command("DEL", "zc"),
        H.encode_command("GET", "zc"), H.encode_command("SETRANGE", "zc", "0", b), H.encode_command("GETRANGE", "zc", "0", "3"),
    ]))
    assert raw.read_raw() == bulk(a)
    assert raw.read_raw() == b":%d\r\n" % (size + 4)
    assert raw.read_raw() == bulk(a + b"tail")
    assert raw.read_raw() == b"+OK\r\n"
    assert raw.read_raw() == bulk(b)
    assert raw.read_raw() == b":1\r\n"
    assert raw.read_raw() == b"$-1\r\n"
    assert raw.read_raw() == b":%d\r\n" % size
    assert raw.read_raw() == bulk(b"bbbb")


@pytest.mark.parametrize("size", [2040, 4096, BIG])
def test_many_big_replies_interleaved_with_small(raw, size):
    vals = [bytes([65 + i % 26]) * (size + i) for i in range(40)]
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
