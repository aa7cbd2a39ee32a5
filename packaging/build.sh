#!/usr/bin/env bash
# Builds the Weft desktop app with PyInstaller into dist/weft/ (one folder:
# run dist/weft/weft), then checks that it starts: a screenshot of the studio
# with an example project, and a render on the tiny models through the bundled
# engine.
#
#   packaging/build.sh              the studio with its engine (torch included: big)
#   packaging/build.sh --gui-only   the studio and command line without the engine
#                                   (small; renders fail with "no module named torch")
#   packaging/build.sh --no-check   skip the smoke tests
#
# Needs the project's .venv (packaging/install.sh); installs PyInstaller into it.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=1
check=1
for arg in "$@"; do
    case "$arg" in
        --gui-only) engine=0 ;;
        --no-check) check=0 ;;
        *) echo "usage: packaging/build.sh [--gui-only] [--no-check]" >&2; exit 2 ;;
    esac
done

py=.venv/bin/python
if ! "$py" -c "import PyInstaller" >/dev/null 2>&1; then
    echo "weft: installing PyInstaller into .venv" >&2
    "$py" -m pip --disable-pip-version-check -q install "pyinstaller>=6.10"
fi

start=$(date +%s)
WEFT_BUILD_ENGINE=$engine "$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/weft.spec
echo "weft: built dist/weft in $(( $(date +%s) - start )) s; size $(du -sh dist/weft | cut -f1)" >&2

install -m 644 assets/weft.desktop dist/weft/weft.desktop
install -m 644 assets/icons/weft.svg dist/weft/weft.svg

if [[ $check == 1 ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    export WEFT_DATA_DIR="$tmp/data" WEFT_CACHE_DIR="$tmp/cache"
    example=$(ls assets/examples/*.weft | head -n 1)
    QT_QPA_PLATFORM=offscreen dist/weft/weft gui "$example" --screenshot "$tmp/studio.png"
    test -s "$tmp/studio.png"
    echo "weft: the packaged studio starts and draws $example" >&2
    if [[ $engine == 1 ]]; then
        cat > "$tmp/tiny.weft" <<'JSON'
{"weft": {"schema": 1},
 "nodes": {"prompt": {"type": "text", "params": {"text": "a lighthouse in a storm"}},
           "t2v": {"type": "text_to_video", "params": {"width": 64, "height": 48, "frames": 9, "steps": 2}},
           "save": {"type": "save_video", "params": {"filename": "clip"}}},
 "links": [{"from": "prompt.out", "to": "t2v.prompt"}, {"from": "t2v.video", "to": "save.video"}]}
JSON
        WEFT_TINY_DIR="${WEFT_TINY_DIR:-$tmp/tiny}" dist/weft/weft render "$tmp/tiny.weft" --models tiny \
            --output-dir "$tmp/out"
        test -s "$tmp/out/clip.mp4"
        echo "weft: the packaged engine renders on the tiny models" >&2
    fi
fi
