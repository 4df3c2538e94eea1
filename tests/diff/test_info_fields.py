"""INFO's fields against redis-server 7.0's: every field of Redis's `INFO
everything` is in Kasi's too, or in the README's table of the fields Kasi
leaves out (section "INFO: Redis's fields and the ones Kasi leaves out"),
and no field of that table is in Kasi's INFO. Both servers first run the
same commands, so that the per-command sections (commandstats, errorstats,
latencystats) and the keyspace have lines on both."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
PER_COMMAND = ("cmdstat_", "errorstat_", "latency_percentiles_usec_")


def fields(text):
    """{field: section} of an INFO reply."""
    out, section = {}, None
    for line in text.splitlines():
        if line.startswith("# "):
            section = line[2:].strip()
        elif ":" in line:
            out[line.split(":", 1)[0]] = section
    return out


def left_out():
    """The README table's fields."""
    text = open(README).read()
    start = text.index("## INFO: Redis's fields and the ones Kasi leaves out")
    end = text.index("\n## ", start + 1)
    names = set()
    for row in re.findall(r"^\| (`[^|]*`) \|", text[start:end], re.M):
        names.update(re.findall(r"`([a-z0-9_]+)`", row))
    return names


def info_of(srv):
    with srv.raw() as c:
        c.cmd("SET", "k", "v")
        c.cmd_raw("NOSUCHCOMMAND")
        c.cmd("GET", "k")
        return fields(c.cmd("INFO", "everything").decode())


def test_every_redis_field_is_in_kasi_or_in_the_readme(pair):
    ref, sut = pair
    theirs, mine, table = info_of(ref), info_of(sut), left_out()
    assert table, "the README's table was not found"
    missing = sorted(f for f in theirs if f not in mine and f not in table and not f.startswith(PER_COMMAND))
    assert not missing, "Redis's INFO fields neither in Kasi's nor in the README: %s" % missing
    there = sorted(f for f in table if f in mine)
    assert not there, "README lists fields Kasi's INFO has (take them off): %s" % there
    stale = sorted(f for f in table if f not in theirs)
    assert not stale, "README lists fields Redis's INFO does not have: %s" % stale
    assert set(theirs.values()) <= set(mine.values()), (set(theirs.values()), set(mine.values()))
    for prefix in PER_COMMAND:
        assert any(f.startswith(prefix) for f in mine), prefix
