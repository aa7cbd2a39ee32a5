"""The install step's check for the system libraries of Qt's xcb platform plugin
(packaging/qt_system_libs.py), run as install.sh runs it, on this machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import qt_system_libs  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb plugin is Linux's")


def ldd_not_found(*binaries: Path) -> list[str]:
    found = []
    for binary in binaries:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
        found += [line.split()[0] for line in out.splitlines() if "not found" in line]
    return list(dict.fromkeys(found))


def test_it_names_what_ldd_cannot_find_and_the_one_command_that_installs_it():
    plugin = qt_system_libs.xcb_plugin()
    assert plugin.is_file()
    checked = qt_system_libs.plugins()
    assert checked[0] == plugin  # and Qt Multimedia's plugin, for the viewer's sound, where installed
    missing = ldd_not_found(*checked)
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "qt_system_libs.py"), "--print"],
                          capture_output=True, text=True, timeout=60)
    if not missing:
        assert done.returncode == 0
        assert "all installed" in done.stderr
        return
    assert done.returncode == qt_system_libs.EXIT_MISSING
    lines = done.stderr.splitlines()
    assert lines[0] == f"weft: the studio's Qt needs system libraries this machine lacks: {', '.join(missing)}"
    packages = sorted({qt_system_libs.PACKAGES[lib] for lib in missing})
    command = lines[-1].strip().split()
    assert command[:4] in (["apt-get", "install", "-y", "--no-install-recommends"],
                           ["sudo", "apt-get", "install", "-y"])
    assert sorted(c for c in command if not c.startswith("-") and c not in ("sudo", "apt-get", "install")) == packages


def test_the_usual_missing_libraries_map_to_their_packages():
    packages, unknown = qt_system_libs.packages_for(
        ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0",
         "libsomething-else.so.2"])
    assert packages == ["libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"]
    assert unknown == ["libsomething-else.so.2"]
    assert qt_system_libs.install_command(packages[:1], root=False) == [
        "sudo", "apt-get", "install", "-y", "--no-install-recommends", "libxcb-cursor0"]


def test_every_library_the_plugin_links_has_a_package():
    """So that whatever a fresh machine lacks, the command names it (checked against the real plugin)."""
    linked = set()
    for binary in qt_system_libs.plugins():
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
        linked |= {line.split()[0] for line in out.splitlines() if "=>" in line}
    xcb_family = {lib for lib in linked if lib.startswith(("libxcb", "libxkb", "libX", "libEGL", "libGL",
                                                           "libfontconfig", "libdbus", "libpulse", "libasound"))}
    assert xcb_family and xcb_family <= set(qt_system_libs.PACKAGES), xcb_family - set(qt_system_libs.PACKAGES)
