"""`pip install <repo>` into a fresh venv (offline, --no-build-isolation), then
the seed demo with the venv's python and the bundled server binary.  Slow
(~1 min: it builds the C server from a clean copy of the sources)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, IS_KASI
from test_server_module import run_demo, check_demo_output

pytestmark = pytest.mark.skipif(not IS_KASI, reason="installs the real kasi-server")


def clean_env():
    env = dict(os.environ)
    for k in ("PYTHONPATH", "KASI_SERVER", "PIP_REQUIRE_VIRTUALENV", "VIRTUAL_ENV",
              "PYTHONHOME", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(k, None)
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def test_pip_install_fresh_venv(tmp_path):
    if not (REPO / "Makefile").is_file() or not list((REPO / "src").rglob("*.c")):
        pytest.skip("no Makefile or C sources in %s: cannot build kasi-server" % REPO)
    if not shutil.which("make") or not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("cc and make are needed to build kasi-server")
    src = tmp_path / "kasi-src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", "bin", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
        "*.o", "*.d", "*.a", ".venv", "venv"))
    venv = tmp_path / "venv"
    env = clean_env()
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, env=env, timeout=120)
    py = str(venv / "bin" / "python")
    r = subprocess.run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--no-cache-dir", str(src)],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        out = (r.stdout + r.stderr)[-3000:]
        if "kasi: building the server" in out or "did not produce" in out:
            pytest.skip("the C sources do not build:\n" + out)
        pytest.fail("pip install failed:\n" + out)

    # the bundled binary is found first, from outside the checkout
    which = subprocess.run([py, "-m", "kasi.server", "--which"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert which.returncode == 0, which.stderr
    found = Path(which.stdout.strip())
    assert found.name == "kasi-server" and venv in found.parents
    assert os.access(found, os.X_OK)
    # built from a copy without .git, as from a tarball: no commit to report
    version = subprocess.run([str(found), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and " sha=00000000:0 " in version.stdout, version
    loc = subprocess.run([py, "-c", "import kasi, os; print(os.path.dirname(kasi.__file__))"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert venv in Path(loc.stdout.strip()).parents  # not the source tree

    # a platform wheel, not a pure one
    wheel_files = list(venv.glob("lib/python*/site-packages/kasi-*.dist-info/WHEEL"))
    assert wheel_files, "no dist-info WHEEL file"
    meta = wheel_files[0].read_text()
    assert "Root-Is-Purelib: false" in meta
    tags = [l.split(":", 1)[1].strip() for l in meta.splitlines() if l.startswith("Tag:")]
    assert tags and all(t.startswith("py3-none-") and not t.endswith("-any") for t in tags), tags

    lines, rc, err = run_demo(py, env, tmp_path)
    check_demo_output(lines)
    assert rc == 0, err
