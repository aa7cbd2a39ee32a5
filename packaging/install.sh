#!/usr/bin/env bash
# Installs Weft into ./.venv (created if missing). Idempotent: a second run
# only installs what changed.
#
#   packaging/install.sh          the studio, the command line and the engine
#   packaging/install.sh --dev    the same, plus the test tools and Ray (its tests run)
#   packaging/install.sh --batch  the same as the first, plus Ray for `weft batch --ray`
#
# Linux: the studio's Qt needs X11/XCB system libraries that PySide6 does not
# bring (libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, ...). The last step
# checks for them (packaging/qt_system_libs.py) and installs the missing ones
# when run as root with apt-get, else prints the one command that does.
# WEFT_SYSTEM_LIBS=print only prints it; WEFT_SYSTEM_LIBS=skip skips the check.
#
# torch: a machine with an NVIDIA driver gets PyPI's default (CUDA) build; any
# other machine gets torch 2.13.0, whose CPU build is what our CI machines
# carry. Set WEFT_TORCH to pick another requirement, e.g. WEFT_TORCH="torch==2.14.1".
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
case "${1:-}" in
    --dev) extras="[dev,batch]" ;;
    --batch) extras="[batch]" ;;
    "") ;;
    *) echo "usage: packaging/install.sh [--dev|--batch]" >&2; exit 2 ;;
esac

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

if [[ -n "${WEFT_TORCH:-}" ]]; then
    torch_req="$WEFT_TORCH"
elif command -v nvidia-smi >/dev/null 2>&1; then
    torch_req="torch>=2.4,<2.15"
else
    torch_req="torch==2.13.0"
fi
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
    echo "weft: installing $torch_req" >&2
    "${pip[@]}" install "$torch_req"
fi
echo "weft: installing weft$extras and its dependencies into .venv" >&2
"${pip[@]}" install -e ".$extras"

case "${WEFT_SYSTEM_LIBS:-auto}" in
    skip) ;;
    print) .venv/bin/python packaging/qt_system_libs.py --print || true ;;
    *) .venv/bin/python packaging/qt_system_libs.py || true ;;
esac
