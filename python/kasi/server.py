"""Run the Kasi C server (kasi-server) from Python.

    from kasi import Server
    Server.start_server(host='0.0.0.0', port=5000, maxmemory='100mb')

or from a shell (arguments are passed to kasi-server unchanged)::

    python -m kasi.server --port 5000 --requirepass s3cret
    python -m kasi.server --which        # print the binary that would run

The binary is looked up in this order: the one bundled in the package
(kasi/bin/kasi-server, put there by ``pip install``), $KASI_SERVER, ``kasi-server``
on $PATH, and in a development checkout the repository's bin/kasi-server.

start_server() on a non-loopback address (such as 0.0.0.0) without
``requirepass`` logs a warning (logger "kasi.server"): the server then runs
in protected mode and refuses clients that are not on loopback or a Unix
socket (see exposure_warning()).
"""

import ipaddress
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from .errors import ServerNotFound

__all__ = ["find_server_binary", "directives_to_args", "launch", "start_server",
           "wait_until_ready", "exposure_warning", "warn_if_exposed", "main"]

BINARY_NAME = "kasi-server"
_PKG_DIR = os.path.dirname(os.path.abspath(__file__))

# With no handler configured, logging's lastResort handler prints warnings
# to stderr, so the warning below is seen by default.
log = logging.getLogger("kasi.server")


def _is_exe(path):
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def find_server_binary():
    """Path of the kasi-server binary to run (raises ServerNotFound)."""
    bundled = os.path.join(_PKG_DIR, "bin", BINARY_NAME)
    if _is_exe(bundled):
        return bundled
    env = os.environ.get("KASI_SERVER")
    if env:
        if _is_exe(env):
            return os.path.abspath(env)
        raise ServerNotFound("KASI_SERVER=%r is not an executable file" % env)
    on_path = shutil.which(BINARY_NAME)
    if on_path:
        return on_path
    # development checkout: <repo>/python/kasi/server.py -> <repo>/bin/kasi-server
    repo_bin = os.path.join(os.path.dirname(os.path.dirname(_PKG_DIR)), "bin",
                            BINARY_NAME)
    if _is_exe(repo_bin):
        return repo_bin
    raise ServerNotFound(
        "kasi-server not found: not bundled in %s, $KASI_SERVER unset, not on "
        "$PATH, and no %s (run `make` in the repository)" % (bundled, repo_bin))


def _value_words(value):
    if value is True:
        return ["yes"]
    if value is False:
        return ["no"]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def directives_to_args(directives):
    """{'maxmemory': '100mb', 'daemonize': True, 'max_domains': 8} ->
    ['--maxmemory', '100mb', '--daemonize', 'yes', '--max-domains', '8'].
    None values are left out; lists give several words."""
    args = []
    for name, value in directives.items():
        if value is None:
            continue
        args.append("--" + name.replace("_", "-"))
        args.extend(_value_words(value))
    return args


def _is_loopback(address):
    """True for 127.x.x.x, ::1 (also as ::ffff:127.x.x.x) and localhost."""
    address = address.strip().lstrip("-")  # "-::1": an optional bind address
    if address.lower() in ("localhost", "localhost."):
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False  # a host name: it may resolve to anything
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def _bind_addresses(host, directives):
    """The addresses the server will listen on (None: its default,
    loopback only)."""
    words = []
    for value in (host, directives.get("bind")):
        if value is None:
            continue
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            words.extend(str(v).split())
    return words or None


def _off(value):
    return value is False or str(value).strip().lower() in ("no", "0", "false", "off")


def exposure_warning(host, port=5000, **directives):
    """The warning start_server logs for these arguments, or None.

    It warns when the server listens on a non-loopback address (such as the
    default 0.0.0.0) without ``requirepass``: the server then runs in
    protected mode and refuses every client that does not come from
    loopback or a Unix socket; with ``protected_mode='no'`` it lets anyone
    who can reach the port read and write every key."""
    if port is not None and str(port).strip() == "0":
        return None  # no TCP listener
    if directives.get("requirepass"):
        return None
    addresses = _bind_addresses(host, directives)
    if addresses is None:
        return None
    exposed = [a for a in addresses if not _is_loopback(a)]
    if not exposed:
        return None
    where = "%s port %s" % (" ".join(exposed), port)
    if _off(directives.get("protected_mode", "yes")):
        return ("kasi-server listens on %s with no password and "
                "protected_mode='no': anyone who can reach this port can read, "
                "change and delete every key. Set requirepass='...' unless "
                "this network is trusted." % where)
    return ("kasi-server listens on %s with no password (requirepass), so it "
            "runs in protected mode: clients connecting from any address other "
            "than 127.0.0.1 / ::1 or a unix socket get a -DENIED error and are "
            "disconnected. Remote clients can connect once a password is set "
            "(start_server(..., requirepass='...'), and clients pass "
            "password='...') or protected mode is turned off "
            "(protected_mode='no', only on a trusted network)." % where)


def warn_if_exposed(host, port=5000, **directives):
    """Log exposure_warning()'s message (logger "kasi.server", level
    WARNING), if any; return it."""
    msg = exposure_warning(host, port, **directives)
    if msg:
        log.warning("%s", msg)
    return msg


def _child_setup(parent_pid):
    """Runs in the child between fork and exec (Linux only): get SIGTERM when
    the parent dies, so a killed launcher leaves no orphan server."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl
            os.kill(os.getpid(), signal.SIGTERM)
    except Exception:
        pass


def launch(host=None, port=None, binary=None, extra_args=(), **directives):
    """Start kasi-server in the background and return its subprocess.Popen.

    The child gets its own process group (so a terminal's Ctrl+C reaches it
    only through start_server's forwarding) and, on Linux, when launched from
    the main thread, is sent SIGTERM if this process dies."""
    exe = binary or find_server_binary()
    argv = [exe]
    if port is not None:
        argv += ["--port", str(port)]
    if host is not None:
        argv += ["--bind", str(host)]
    argv += directives_to_args(directives)
    argv += list(extra_args)
    kw = {}
    # PR_SET_PDEATHSIG fires when the *thread* that forked exits.
    if sys.platform.startswith("linux") and \
            threading.current_thread() is threading.main_thread():
        parent = os.getpid()
        kw["preexec_fn"] = lambda: _child_setup(parent)
    if os.name == "posix":
        kw["process_group"] = 0 if sys.version_info >= (3, 11) else None
        if kw["process_group"] is None:
            del kw["process_group"]
            kw["start_new_session"] = True
    return subprocess.Popen(argv, **kw)


def _wait_forwarding(proc):
    """Wait for proc, forwarding SIGINT/SIGTERM/SIGHUP to it.  Returns its
    exit status (128+N if it was killed by signal N)."""
    forwarded = (signal.SIGINT, signal.SIGTERM) + \
        ((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())
    old = {}
    if threading.current_thread() is threading.main_thread():
        def forward(signum, frame):
            try:
                proc.send_signal(signum)
            except OSError:
                pass
        for s in forwarded:
            old[s] = signal.signal(s, forward)
    try:
        while True:
            try:
                rc = proc.wait()
                break
            except KeyboardInterrupt:  # only if no handler could be installed
                proc.send_signal(signal.SIGINT)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 128 - rc if rc < 0 else rc


def start_server(host="0.0.0.0", port=5000, binary=None, **directives):
    """Run kasi-server in the foreground until it exits; return its exit
    status.  Ctrl+C / SIGTERM are forwarded to the server, which then shuts
    down cleanly.  Keyword arguments become server directives: underscores
    turn into hyphens, True/False into yes/no (``maxmemory='100mb'`` ->
    ``--maxmemory 100mb``, ``daemonize=True`` -> ``--daemonize yes``).  With
    daemonize=True this returns as soon as the server has detached.

    Listening on a non-loopback address (such as the default 0.0.0.0)
    without ``requirepass`` logs a warning (logger "kasi.server"): the
    server then runs in protected mode and refuses remote clients with
    -DENIED until a password is set (``requirepass='...'``) or protected
    mode is turned off (``protected_mode='no'``, trusted networks only)."""
    warn_if_exposed(host, port, **directives)
    proc = launch(host=host, port=port, binary=binary, **directives)
    return _wait_forwarding(proc)


def wait_until_ready(host="127.0.0.1", port=5000, timeout=10.0, proc=None,
                     unix_socket_path=None):
    """Block until the server accepts connections and answers PING.  Raises
    TimeoutError, or RuntimeError if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("kasi-server exited with status %s" % proc.returncode)
        try:
            if unix_socket_path:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(1.0)
                s.connect(unix_socket_path)
            else:
                s = socket.create_connection((host, port), timeout=1.0)
            with s:
                s.sendall(b"PING\r\n")
                data = s.recv(64)
                if data.startswith((b"+PONG", b"-NOAUTH", b"-ERR")):
                    return True
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("kasi-server did not answer on %s within %.1fs"
                               % (unix_socket_path or "%s:%s" % (host, port), timeout))
        time.sleep(0.02)


def main(argv=None):
    """``python -m kasi.server [kasi-server arguments]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--which"]:
        try:
            print(find_server_binary())
        except ServerNotFound as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    try:
        exe = find_server_binary()
    except ServerNotFound as exc:
        print("kasi.server: %s" % exc, file=sys.stderr)
        return 127
    proc = launch(binary=exe, extra_args=argv)
    return _wait_forwarding(proc)


if __name__ == "__main__":
    sys.exit(main())
