"""Damaged persistence files.

* Torn tail of the incr AOF (last record cut short, a last record with a bad
  checksum, trailing zero bytes): start-up loads everything before it, logs a
  warning, and later appends survive the next crash.
* A byte flipped in the middle of the incr AOF: start-up fails (status 1) naming the
  file and the offset; `kasi-server --check-aof` reports it, `--check-aof --fix`
  truncates there, and start-up then keeps the prefix.
* A damaged snapshot (dump.kasi, or the AOF base file): start-up fails with a
  message naming it; `kasi-server --check-snapshot` reports it.
"""
import os
import shutil
import re
import shlex
import subprocess

import pytest

import kasi_harness as H
from test_persistence import (AOF_ALWAYS, NO_SAVE, TF, aof_files, incr_files, info, kill9,
                              log_lines, pserver, select, send_all, wait_info)

pytestmark = pytest.mark.kasi_only

DOM = "seq-dom"


def key(prefix, i):
    return b"%s:%06d" % (prefix, i)


def val(prefix, i):
    return b"val-%s-%06d-" % (prefix, i) + b"abcdefgh" * 4


def write_seq(srv, n, prefix=b"key", pipeline=False):
    """SET key:i val(i) for i < n in domain DOM; one command per round trip unless
    pipelined, so each is its own AOF record."""
    with srv.raw(timeout=30 * H.TIME_FACTOR) as c:
        select(c, DOM)
        if pipeline:
            for i in range(0, n, 500):
                cmds = [("SET", key(prefix, j), val(prefix, j)) for j in range(i, min(n, i + 500))]
                assert send_all(c, cmds) == [b"OK"] * len(cmds)
        else:
            for i in range(n):
                assert c.cmd("SET", key(prefix, i), val(prefix, i)) == b"OK"


def count_prefix(srv, n, prefix=b"key"):
    """How many of key:0..n-1 are present; they must be a prefix, with right values."""
    with srv.raw(timeout=30 * H.TIME_FACTOR) as c:
        select(c, DOM)
        vals = []
        for i in range(0, n, 1000):
            vals += c.cmd("MGET", *[key(prefix, j) for j in range(i, min(n, i + 1000))])
    present = [v is not None for v in vals]
    m = present.index(False) if False in present else n
    later = [i for i in range(m, n) if present[i]]
    assert not later, "key %d missing but %d later ones present (first %r)" % (m, len(later), later[:5])
    wrong = [i for i in range(m) if vals[i] != val(prefix, i)]
    assert not wrong, "wrong values for %r" % wrong[:5]
    return m


def server_argv(datadir, *directives):
    argv = [H.KASI_SERVER] + shlex.split(os.environ.get("KASI_SERVER_ARGS", ""))
    argv += ["--port", str(H.free_port()), "--bind", "127.0.0.1", "--dir", str(datadir)]
    for k, v in directives:
        argv += ["--" + k, v]
    return argv


def start_must_fail(datadir, *directives):
    """Run a server that has to refuse to start; returns (exit status, output)."""
    argv = server_argv(datadir, *directives)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=H.START_TIMEOUT)
    except subprocess.TimeoutExpired as e:  # subprocess.run has killed it
        raise AssertionError("server started (still running after %.0fs) despite the damage: %s\n%s" % (
            H.START_TIMEOUT, shlex.join(argv), (e.output or b"").decode("utf-8", "replace")))
    return p.returncode, p.stdout.decode("utf-8", "replace")


def tool(*args):
    p = subprocess.run([H.KASI_SERVER] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30 * TF)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def the_incr_file(datadir):
    files = incr_files(datadir)
    assert len(files) == 1, "expected one incr AOF file: %r" % aof_files(datadir)
    return files[0]


def flip_byte(path, pos, mask=0x20):
    with open(path, "r+b") as f:
        f.seek(pos)
        b = f.read(1)
        f.seek(pos)
        f.write(bytes([b[0] ^ mask]))


# --------------------------------------------------------------------------
# torn tail
# --------------------------------------------------------------------------

N_TORN = 400


@pytest.mark.parametrize("damage", ["truncate", "half-record", "bad-crc-record", "zeros"])
def test_aof_torn_tail_loads_prefix(server_factory, tmp_path, damage):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    write_seq(s, N_TORN - 1)
    f = the_incr_file(data)
    size_a = os.path.getsize(f)
    with s.raw() as c:  # appendfsync always: once acknowledged, the record is in the file
        select(c, DOM)
        assert c.cmd("SET", key(b"key", N_TORN - 1), val(b"key", N_TORN - 1)) == b"OK"
    size_b = os.path.getsize(f)
    kill9(s)
    content = open(f, "rb").read()
    assert len(content) == size_b > size_a
    rec = content[size_a:]  # the bytes of the last record
    with open(f, "r+b") as fh:
        fh.seek(0, os.SEEK_END)
        if damage == "truncate":
            fh.truncate(len(content) - 3)
            expect = N_TORN - 1
        elif damage == "half-record":
            fh.write(rec[:len(rec) // 2])
            expect = N_TORN
        elif damage == "bad-crc-record":
            bad = bytearray(rec)
            i = rec.find(val(b"key", N_TORN - 1))
            bad[i + 9 if i >= 0 else len(rec) // 2] ^= 0x20
            fh.write(bytes(bad))
            expect = N_TORN
        else:
            fh.write(b"\0" * 4096)
            expect = N_TORN
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert count_prefix(s, N_TORN) == expect
    warns = [ln for ln in log_lines(s, "#") if "aof" in ln.lower() or os.path.basename(f) in ln]
    assert warns, "no warning logged about the damaged AOF tail; log:\n" + s.log_text(3000)
    # the server goes on appending after the good prefix: a second crash keeps both
    write_seq(s, 50, prefix=b"more")
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert count_prefix(s, N_TORN) == expect
    assert count_prefix(s, 50, prefix=b"more") == 50


# --------------------------------------------------------------------------
# corruption in the middle
# --------------------------------------------------------------------------

N_MID = 400


def test_aof_middle_corruption_fails_then_check_aof_fix(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    write_seq(s, N_MID)
    kill9(s)
    f = the_incr_file(data)
    rc, out = tool("--check-aof", f)
    assert rc == 0, "--check-aof on an intact file: status %d\n%s" % (rc, out)

    content = open(f, "rb").read()
    k = N_MID // 2
    pos = content.find(val(b"key", k))
    assert pos > 0, "value of key %d not found in %s" % (k, f)
    pos += 9  # inside the value
    flip_byte(f, pos)
    damaged = open(f, "rb").read()

    rc, out = start_must_fail(data, *AOF_ALWAYS)
    assert rc == 1, "start-up on a corrupt AOF: status %d\n%s" % (rc, out)
    assert os.path.basename(f) in out, "start-up failure does not name %s:\n%s" % (f, out)
    m = re.search(r"offset (\d+)", out)
    assert m, "start-up failure does not give the offset:\n%s" % out
    off = int(m.group(1))
    assert pos - 4096 <= off <= pos, "offset %d, but the flipped byte is at %d" % (off, pos)
    assert open(f, "rb").read() == damaged, "a failed start-up modified the AOF"

    rc, out = tool("--check-aof", f)
    assert rc != 0, "--check-aof on a corrupt file: status 0\n%s" % out
    assert "offset" in out, out
    assert open(f, "rb").read() == damaged, "--check-aof without --fix modified the file"

    rc, out = tool("--check-aof", "--fix", f)
    assert rc == 0, "--check-aof --fix: status %d\n%s" % (rc, out)
    assert os.path.getsize(f) <= pos, (os.path.getsize(f), pos)
    assert open(f, "rb").read() == damaged[:os.path.getsize(f)], "--fix did more than truncate"
    rc, out = tool("--check-aof", f)
    assert rc == 0, "--check-aof after --fix: status %d\n%s" % (rc, out)

    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert count_prefix(s, N_MID) == k, "the records before the damaged one (key %d) must all load" % k
    with s.raw() as c:
        select(c, DOM)
        assert c.cmd("SET", "after-fix", "1") == b"OK"
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert count_prefix(s, N_MID) == k
    with s.raw() as c:
        select(c, DOM)
        assert c.cmd("GET", "after-fix") == b"1"


def test_aof_base_corruption_fails(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    write_seq(s, 2000, pipeline=True)
    n0 = int(info(s, "persistence")["aof_rewrites"])
    with s.raw() as c:
        assert c.cmd_raw("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
    wait_info(s, "persistence", lambda d: d["aof_rewrite_in_progress"] == "0"
              and int(d["aof_rewrites"]) > n0, 30, "rewrite")
    kill9(s)
    bases = [x for x in aof_files(data) if x.endswith(".base.kasi")]
    assert len(bases) == 1, aof_files(data)
    base = os.path.join(str(data), "appendonlydir", bases[0])
    content = open(base, "rb").read()
    pos = content.find(val(b"key", 1000))
    flip_byte(base, pos + 9 if pos >= 0 else len(content) // 2)
    rc, out = start_must_fail(data, *AOF_ALWAYS)
    assert rc == 1, "start-up on a corrupt AOF base: status %d\n%s" % (rc, out)
    assert bases[0] in out, "the failure does not name %s:\n%s" % (bases[0], out)


# --------------------------------------------------------------------------
# snapshot corruption
# --------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["flip", "truncate", "flip-header"])
def test_snapshot_corruption_fails_startup(server_factory, tmp_path, damage):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    write_seq(s, 2000, pipeline=True)
    with s.raw() as c:
        assert c.cmd("SAVE") == b"OK"
    kill9(s)
    path = os.path.join(str(data), "dump.kasi")
    rc, out = tool("--check-snapshot", path)
    assert rc == 0, "--check-snapshot on an intact file: status %d\n%s" % (rc, out)
    content = open(path, "rb").read()
    if damage == "flip":
        pos = content.find(val(b"key", 1000))
        flip_byte(path, pos + 9 if pos >= 0 else len(content) // 2)
    elif damage == "flip-header":
        flip_byte(path, 2, 0x01)
    else:
        with open(path, "r+b") as f:
            f.truncate(len(content) - 10)
    rc, out = start_must_fail(data, *NO_SAVE)
    assert rc == 1, "start-up on a damaged snapshot: status %d\n%s" % (rc, out)
    assert "dump.kasi" in out, "the failure does not name the snapshot:\n%s" % out
    rc2, out2 = tool("--check-snapshot", path)
    assert rc2 != 0, "--check-snapshot on a damaged file: status 0\n%s" % out2
    # the damaged file is left alone for the operator
    assert os.path.getsize(path) == (len(content) if damage != "truncate" else len(content) - 10)


def test_aof_cut_at_any_byte_of_the_tail(server_factory, tmp_path):
    """A power cut can leave the file ending anywhere.  For cuts at many points in the
    last records, start-up succeeds and loads a prefix of the writes that ends no
    earlier than the record the cut falls in; a later cut never loads less."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    write_seq(s, 20)
    f = the_incr_file(data)
    ends = []  # file size after each acknowledged write (appendfsync always)
    with s.raw() as c:
        select(c, DOM)
        for i in range(20, 26):
            assert c.cmd("SET", key(b"key", i), val(b"key", i)) == b"OK"
            ends.append(os.path.getsize(f))
    kill9(s)
    full = open(f, "rb").read()
    start = ends[0] - 1
    cuts = sorted(set([start] + list(range(start, len(full) + 1, max(1, (len(full) - start) // 12)))
                      + [e for e in ends] + [e - 1 for e in ends]))
    last_m = -1
    for cut in cuts:
        work = tmp_path / ("cut%d" % cut)
        shutil.copytree(data, work)
        with open(os.path.join(str(work), "appendonlydir", os.path.basename(f)), "r+b") as fh:
            fh.truncate(cut)
        r = pserver(server_factory, work, *AOF_ALWAYS)
        m = count_prefix(r, 26)
        r.stop()
        # exactly the writes whose record ends at or before the cut are loaded
        complete = 20 + sum(1 for e in ends if e <= cut)
        assert m == complete and m >= last_m, "cut at %d of %d bytes: %d writes loaded, %d were complete" % (
            cut, len(full), m, complete)
        last_m = m
