"""Build the kasi wheel: the Python client plus the C server binary.

`pip install <repo>` runs `make` in the repository root (needs only a C
compiler and make), which produces bin/kasi-server, and copies that binary
into the package as kasi/bin/kasi-server.  The wheel is platform specific
(py3-none-<platform>) because it carries a native executable.

Environment:
  KASI_SKIP_SERVER_BUILD=1   build a client-only package (no make, no binary)
  MAKE                       the make program to run (default: make)
Metadata lives in pyproject.toml.
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.command.sdist import sdist as _sdist
from setuptools.dist import Distribution

ROOT = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.join("bin", "kasi-server")


class BinaryDistribution(Distribution):
    """Not a pure-Python distribution: it ships a native executable."""

    def has_ext_modules(self):
        return True


class build_py(_build_py):
    """build_py, plus `make` and copying bin/kasi-server into the package."""

    def run(self):
        super().run()
        if os.environ.get("KASI_SKIP_SERVER_BUILD"):
            sys.stderr.write("kasi: KASI_SKIP_SERVER_BUILD set, not building "
                             "the server binary\n")
            return
        make = os.environ.get("MAKE", "make")
        if not os.path.exists(os.path.join(ROOT, "Makefile")):
            raise SystemExit("kasi: no Makefile in %s: cannot build kasi-server "
                             "(set KASI_SKIP_SERVER_BUILD=1 for a client-only "
                             "package)" % ROOT)
        self.announce("running %s in %s" % (make, ROOT), level=2)
        try:
            subprocess.check_call([make], cwd=ROOT)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SystemExit("kasi: building the server with `%s` failed: %s"
                             % (make, exc))
        src = os.path.join(ROOT, BINARY)
        if not os.path.isfile(src):
            raise SystemExit("kasi: `%s` did not produce %s" % (make, src))
        dst_dir = os.path.join(self.build_lib, "kasi", "bin")
        self.mkpath(dst_dir)
        dst = os.path.join(dst_dir, "kasi-server")
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o755)

    def get_outputs(self, include_bytecode=1):
        outs = super().get_outputs(include_bytecode)
        binary = os.path.join(self.build_lib, "kasi", "bin", "kasi-server")
        if binary not in outs and not os.environ.get("KASI_SKIP_SERVER_BUILD"):
            outs.append(binary)
        return outs


class sdist(_sdist):
    """Also ship the C sources and the Makefile, so the sdist can build."""

    def make_distribution(self):
        for name in ("Makefile", "setup.py", "pyproject.toml",
                     os.path.join("python", "README-client.md")):
            if os.path.isfile(os.path.join(ROOT, name)):
                self.filelist.append(name)
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, "src")):
            for f in files:
                if f.endswith((".c", ".h")):
                    self.filelist.append(
                        os.path.relpath(os.path.join(dirpath, f), ROOT))
        self.filelist.sort()
        self.filelist.remove_duplicates()
        super().make_distribution()


cmdclass = {"build_py": build_py, "sdist": sdist}

try:
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

    class bdist_wheel(_bdist_wheel):
        """Platform wheel, but not tied to a Python ABI: py3-none-<plat>."""

        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _python, _abi, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = bdist_wheel
except ImportError:  # wheel missing (Debian: apt-get install python3-wheel)
    pass

setup(distclass=BinaryDistribution, cmdclass=cmdclass)
