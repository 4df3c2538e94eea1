#!/usr/bin/env python3
"""Check that src/ is layered: a file includes headers of its own folder and of
the folders below it, never of a folder above it. The folders, lowest first:

  lib      buffers, event loop, sockets, hashing, logging, the hash table
  proto    wire protocols (RESP): pure parsers and composers over buffers
  store    items, segments, the keyspace, expiry, eviction, WATCH, the value-kind
           interface and the hooks persistence and replication install
  types    one file per value kind (strings now)
  conf     the server's directives
  persist  records, the AOF, snapshots, loading
  pubsub   channels, patterns, subscribers and delivery across workers
  script   Lua scripting: the libraries scripts get (cmsgpack, struct)
  cmd      the command registry, sessions, reply sinks and the commands
  server   main, workers, listeners, connections

With a strict order there can be no include cycle between folders. Exits 1 and
names each upward include; also fails on a file outside the folders."""
import os
import re
import sys

LAYERS = ["lib", "proto", "store", "types", "conf", "persist", "pubsub", "script", "cmd", "server"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main(root):
    src = os.path.join(root, "src")
    problems = []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src)
            layer = rel.split(os.sep)[0]
            if layer not in RANK or os.sep not in rel:
                problems.append("%s: not inside one of the layer folders %s" % (rel, LAYERS))
                continue
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            for m in INCLUDE.finditer(text):
                target = m.group(1).split("/")[0]
                line = text.count("\n", 0, m.start()) + 1
                if "/" not in m.group(1) or target not in RANK:
                    problems.append("%s:%d: include \"%s\" is not of the form \"<layer>/<file>\"" % (
                        rel, line, m.group(1)))
                elif RANK[target] > RANK[layer]:
                    problems.append("%s:%d: %s includes %s, a layer above it" % (
                        rel, line, layer, m.group(1)))
    for p in problems:
        print(p)
    if problems:
        print("%d layering problem(s); the order is %s" % (len(problems), " < ".join(LAYERS)))
        return 1
    print("layers ok: %s" % " < ".join(LAYERS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))))
