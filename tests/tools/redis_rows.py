#!/usr/bin/python3
"""Print Kasi command-table rows (src/cmd/*.c) for Redis commands, from what a
running redis-server 7.0 says of them in COMMAND INFO and COMMAND DOCS: arity,
flags, ACL categories, key specs, tips, group, since and complexity. A tool for
writing a family file; tests/diff/test_command_table.py checks the result.

    tests/tools/redis_rows.py PORT hset hget ...
"""
import socket
import sys

FLAGS = {"write": "W", "readonly": "R", "denyoom": "M", "fast": "F", "admin": "CMD_ADMIN",
         "noscript": "CMD_NOSCRIPT", "loading": "CMD_LOADING", "stale": "CMD_STALE",
         "skip_slowlog": "CMD_SKIP_SLOWLOG", "no_auth": "CMD_NOAUTH",
         "no_async_loading": "CMD_NO_ASYNC_LOADING", "no_multi": "CMD_NOMULTI",
         "allow_busy": "CMD_ALLOW_BUSY", "blocking": "CMD_BLOCKING"}
IMPLIED = {"write": "@write", "readonly": "@read", "fast": "@fast", "admin": "@admin"}


def cmd(sock, f, *args):
    out = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
    sock.sendall(out)
    return parse(f)


def parse(f):
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"-"):
        return rest.decode()
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [parse(f) for _ in range(n)]
    raise ValueError(line)


def spec_macro(specs):
    def one(s):
        d = dict(zip(s[::2], s[1::2]))
        bs = dict(zip(d["begin_search"][::2], d["begin_search"][1::2]))
        fk = dict(zip(d["find_keys"][::2], d["find_keys"][1::2]))
        b = dict(zip(bs["spec"][::2], bs["spec"][1::2]))
        k = dict(zip(fk["spec"][::2], fk["spec"][1::2]))
        return " ".join(d["flags"]), bs["type"], b.get("index"), fk["type"], k
    parts = [one(s) for s in specs]
    if not parts:
        return "NOKEYS"
    if len(parts) == 1:
        fl, bt, idx, ft, k = parts[0]
        if ft == "keynum":
            return 'KEYNUM(%d, "%s")' % (idx, fl)
        if idx == 1 and k["keystep"] == 1 and k["lastkey"] == 0:
            return 'KEY1("%s")' % fl
        if idx == 1 and k["keystep"] == 1 and k["lastkey"] == -1:
            return 'KEYN("%s")' % fl
        if idx == 1 and k["keystep"] == 2 and k["lastkey"] == -1:
            return 'KEYN2("%s")' % fl
    if len(parts) == 2:
        (f1, _, i1, t1, k1), (f2, _, i2, t2, k2) = parts
        if t2 == "keynum":
            return 'KEY1NUM("%s", "%s")' % (f1, f2)
        if k2["lastkey"] == 0:
            return 'KEY12("%s", "%s")' % (f1, f2)
        return 'KEY1N("%s", "%s")' % (f1, f2)
    return "/* FIXME specs %r */" % parts


def main():
    port = int(sys.argv[1])
    sock = socket.create_connection(("127.0.0.1", port))
    f = sock.makefile("rb")
    for name in sys.argv[2:]:
        info = cmd(sock, f, "COMMAND", "INFO", name)[0]
        docs = cmd(sock, f, "COMMAND", "DOCS", name)
        doc = dict(zip(docs[1][::2], docs[1][1::2]))
        flags = [FLAGS[x] for x in info[2] if x in FLAGS]
        implied = {IMPLIED[x] for x in info[2] if x in IMPLIED}
        cats = [c for c in info[6] if c not in implied and c != "@slow" and
                not (c == "@dangerous" and "admin" in info[2])]
        acl = " | ".join("CAT_" + c[1:].upper() for c in cats) or "0"
        tips = '"%s"' % " ".join(info[7]) if info[7] else "NULL"
        print('    {"%s", cmd_%s, %d, %s, %s, %s, "%s", "%s", "%s", %s, NULL},' % (
            name, name, info[1], " | ".join(flags) or "0", acl, spec_macro(info[8]),
            doc.get("group"), doc.get("since"), doc.get("complexity"), tips))


if __name__ == "__main__":
    main()
