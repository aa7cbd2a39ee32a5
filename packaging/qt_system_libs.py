"""Does this Linux machine have the system libraries Qt's xcb platform plugin needs?

PySide6's wheels bring Qt itself but not the X11/XCB libraries its xcb
platform plugin (the one the studio uses on X11 and XWayland) links against.
On a fresh Debian or Ubuntu some are missing (libxcb-cursor0, libxcb-icccm4,
libxcb-keysyms1 are the usual ones), and the studio then dies at start with
"could not load the Qt platform plugin xcb"; Qt Multimedia (the viewer's
sound) needs PulseAudio's client library the same way. This asks the dynamic
linker (``ldd``) what those plugins cannot find, names the Debian/Ubuntu packages that
hold those libraries, and installs them where it may (as root, with apt-get)
or prints the one command that does.

    python packaging/qt_system_libs.py            install where it may, else print the command
    python packaging/qt_system_libs.py --print    only print what is missing and the command

Exit status: 0 nothing missing (or installed now), 3 something missing.
``packaging/install.sh`` runs it after installing PySide6.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The library (as ldd names it) -> the Debian/Ubuntu package with it.
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libXext.so.6": "libxext6",
    "libXrandr.so.2": "libxrandr2",
    "libXrender.so.1": "libxrender1",
    "libdrm.so.2": "libdrm2",
    "libGLdispatch.so.0": "libglvnd0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libpulse.so.0": "libpulse0",
    # libpulse0's private helper library, named by its version (Debian 12: 16.1, Ubuntu 24.04: 16.1, newer: 17.0).
    "libpulsecommon-16.1.so": "libpulse0",
    "libpulsecommon-17.0.so": "libpulse0",
    "libpulse-mainloop-glib.so.0": "libpulse-mainloop-glib0",
    "libasound.so.2": "libasound2",
}
EXIT_MISSING = 3


def xcb_plugin() -> Path:
    """The xcb platform plugin of the PySide6 this Python imports."""
    from PySide6.QtCore import QLibraryInfo  # QtCore loads without a display
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / "libqxcb.so"


def plugins(xcb: Path | None = None) -> list[Path]:
    """What the studio loads: the xcb platform plugin, and Qt Multimedia's FFmpeg plugin where it is installed."""
    xcb = xcb or xcb_plugin()
    found = [xcb]
    sound = xcb.parent.parent / "multimedia" / "libffmpegmediaplugin.so"
    if sound.is_file():
        found.append(sound)
    return found


def missing_libraries(*binaries: Path) -> list[str]:
    """The libraries ``binaries`` need that the dynamic linker cannot find (ldd's "not found")."""
    missing = []
    for binary in binaries:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
        missing += [line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line]
    return list(dict.fromkeys(missing))


def packages_for(libraries: list[str]) -> tuple[list[str], list[str]]:
    """(the packages that hold ``libraries``, the libraries no known package holds)."""
    known = [PACKAGES[lib] for lib in libraries if lib in PACKAGES]
    unknown = [lib for lib in libraries if lib not in PACKAGES]
    return list(dict.fromkeys(known)), unknown


def install_command(packages: list[str], *, root: bool) -> list[str]:
    return ([] if root else ["sudo"]) + ["apt-get", "install", "-y", "--no-install-recommends", *packages]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", dest="print_only", action="store_true",
                        help="only say what is missing and the command that installs it")
    parser.add_argument("--plugin", type=Path, default=None, help=argparse.SUPPRESS)  # another Qt build
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        return 0
    if shutil.which("ldd") is None:
        print("weft: cannot check Qt's system libraries (no ldd on this machine)", file=sys.stderr)
        return 0
    plugin = args.plugin or xcb_plugin()
    if not plugin.is_file():
        print(f"weft: Qt's xcb platform plugin is not at {plugin}; is PySide6 installed?", file=sys.stderr)
        return EXIT_MISSING
    checked = plugins(plugin)
    missing = missing_libraries(*checked)
    if not missing:
        print("weft: Qt's system libraries for the studio are all installed", file=sys.stderr)
        return 0
    packages, unknown = packages_for(missing)
    print(f"weft: the studio's Qt needs system libraries this machine lacks: {', '.join(missing)}", file=sys.stderr)
    root = os.geteuid() == 0
    apt = shutil.which("apt-get") is not None
    if unknown:
        print(f"weft: no package known here holds {', '.join(unknown)}; your distribution's package search "
              "(apt-file search, dnf provides) finds it", file=sys.stderr)
    if not packages:
        return EXIT_MISSING
    command = install_command(packages, root=root)
    if root and apt and not args.print_only:
        print(f"weft: installing them: {' '.join(command)}", file=sys.stderr)
        done = subprocess.run(command)
        if done.returncode != 0:  # a fresh container has no package lists yet
            subprocess.run(["apt-get", "update"])
            done = subprocess.run(command)
        left = missing_libraries(*checked)
        if done.returncode == 0 and not left:
            return 0
        print(f"weft: still missing after apt-get: {', '.join(left) or '(apt-get failed)'}", file=sys.stderr)
        return EXIT_MISSING
    if apt:
        print(f"weft: install them with:\n    {' '.join(command)}", file=sys.stderr)
    else:
        print(f"weft: on Debian or Ubuntu these are the packages {' '.join(packages)}; install the same "
              "libraries with your distribution's package manager", file=sys.stderr)
    return EXIT_MISSING


if __name__ == "__main__":
    sys.exit(main())
