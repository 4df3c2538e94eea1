"""Multi-client differential runs (test_diff_pubsub.py, test_diff_blocking.py):
a scenario drives several named clients of one server; every reply and every
pushed message each client reads is recorded in order, and the transcripts of
redis-server and Kasi must be equal byte for byte.

A step says how many replies its client reads. Where Redis's order is its hash
table's (UNSUBSCRIBE with no arguments, PUBSUB CHANNELS), the step is marked
unordered: its confirmations are compared as a set of names and a list of
counts, a list reply as its sorted lines. At the end of a scenario every
client sends PING and reads one reply: a message that should not have come
would be read there instead, and the transcripts would differ.
"""
import re
import time

import kasi_harness as H


# How long a command sent with send_unread is given to reach the servers
# before the scenario goes on (longer for the sanitizer builds).
WAIT_S = 0.05 * H.TIME_FACTOR


def send_unread(r, who, *cmd):
    """Send a command whose reply is read later with r.read (it blocks, or
    a pause holds it), and give it WAIT_S to reach the server first."""
    r.c(who).send_command(*cmd)
    time.sleep(WAIT_S)


def _blank_feed(line):
    """A MONITOR line with the time and the client's port (which differ
    between runs) blanked; any other reply as it is."""
    return re.sub(rb"^\+\d+\.\d{6} \[(-?\d+) ([^\]]*?):\d+\]", rb"+T [\1 \2:P]", line)


class Run:
    def __init__(self, srv, proto=2):
        self.srv = srv
        self.proto = proto
        self.conns = {}
        self.log = []
        self.ids = set()

    def c(self, name):
        """Client `name`, connected (speaking RESP3 after HELLO 3 when the
        run is in RESP3) on first use."""
        if name not in self.conns:
            c = self.conns[name] = H.RawConn(self.srv.port, timeout=5)
            if self.proto == 3:
                assert c.cmd_raw("HELLO", "3").startswith(b"%7\r\n")
        return self.conns[name]

    def do(self, who, *args, n=1, unordered=False, blank=()):
        """Send a command as client `who` and read n replies (with each of
        `blank`, a value that differs between the servers, such as a client
        id, made "ID")."""
        c = self.c(who)
        c.send_command(*args)
        # the ids handed out by id() are logged as "ID"
        self.read(who, n, unordered, tuple("ID" if a in self.ids else a for a in args), blank)
        if str(args[0]).upper() == "QUIT":
            self.conns.pop(who).close()

    def read(self, who, n, unordered=False, what=None, blank=()):
        c = self.c(who)
        if n == 0:   # a command with no reply: the next one's must come first
            return
        got = [_blank_feed(c.read_raw()) for _ in range(n)]
        for b in blank:
            got = [g.replace(b, b"ID") for g in got]
        if unordered == "sorted":
            got.sort()
        elif unordered:
            # confirmations in hash order: the names as a set, the counts
            # (which fall by one each) in order
            heads = sorted(g[:g.rindex(b":")] for g in got)
            got = heads + [g[g.rindex(b":"):] for g in got]
        self.log.append((who, what, got))

    def id(self, who):
        """Client `who`'s id on this server (not logged: it differs)."""
        i = self.c(who).cmd("CLIENT", "ID")
        self.ids.add(i)
        return i

    def hello3(self, who):
        """Switch client `who` to RESP3 (its HELLO reply holds its id: not
        logged)."""
        assert self.c(who).cmd_raw("HELLO", "3").startswith(b"%7\r\n")

    def read_feed(self, who, until):
        """MONITOR lines up to the one holding `until`, blanked."""
        c = self.c(who)
        got = []
        while True:
            line = _blank_feed(c.read_raw())
            got.append(line)
            if until in line:
                break
        self.log.append((who, "feed", got))

    def raw_reply(self, who, *args):
        """A reply whose element order is Redis's hash order: compared sorted."""
        c = self.c(who)
        c.send_command(*args)
        raw = c.read_raw()
        self.log.append((who, args, sorted(raw.split(b"\r\n"))))

    def finish(self):
        for who in sorted(self.conns):
            self.do(who, "PING")
        for c in self.conns.values():
            c.close()



def compare(pair, name, fn, proto=2):
    ref, sut = pair
    logs = []
    for srv in (ref, sut):
        with srv.raw() as c:
            c.cmd("FLUSHALL")
        r = Run(srv, proto)
        try:
            fn(r)
            r.finish()
        except Exception as e:   # say which server it was
            raise AssertionError("%s on %s (%s)" % (name, srv.kind, e)) from e
        finally:
            for c in r.conns.values():
                c.close()
        logs.append(r.log)
    want, got = logs
    for i, (a, b) in enumerate(zip(want, got)):
        assert a == b, "step %d of %s differs:\n  redis: %r\n  kasi:  %r" % (i, name, a, b)
    assert len(want) == len(got)
    assert sut.alive()
