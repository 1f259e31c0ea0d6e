#!/usr/bin/env bash
# Linux smoke build: freeze the program with installer/foodarchive.spec, then
# run the frozen executables (never the source) against a fresh database.
#
#   installer/smoke_linux.sh [--steps "version init demo print-volume gui"] [--dist DIR] [--no-build]
#   (or the steps in the environment variable SMOKE_STEPS)
#
# Steps (default: all, in this order), each one a run of the frozen program:
#   version       foodarchive-cli --version prints pyproject.toml's version
#   init          foodarchive-cli --db X init          (creates and migrates X)
#   demo          foodarchive-cli --db X demo          (loads the demo factory)
#   print-volume  foodarchive-cli --db X print-volume <first archive of the demo> --out Y.pdf
#                 (Y.pdf must exist and not be empty)
#   gui           QT_QPA_PLATFORM=offscreen FoodArchive --db X gui --smoke
#                 (builds every page, waits for the first paint, exits 0)
# The steps run in a scratch folder with their own HOME, so nothing is found
# relative to the working directory or in the developer's data folders.
#
# Where things go: the bundle (≈ 400 MB), PyInstaller's work folder and the
# steps' files are made in one temporary folder that is removed at the end,
# pass or fail — nothing is left in dist/ or in the system's temporary folder.
# --dist DIR builds the bundle into DIR/FoodArchive instead and keeps it
# (--no-build --dist DIR runs the steps on a bundle kept that way).
# Kept between runs, as caches under build/ (ignored by git): build/venv, a
# normal (not editable) install of the project with the `build` extra (only
# the project itself is reinstalled each run; ≈ 600 MB), and
# build/pyinstaller-cache, PyInstaller's cache of analysed libraries.
# `rm -rf build` removes them; the next run is then ≈ 1 min slower.
# Prints the build time and the bundle size. Exit 0 only if every step passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

STEPS=${SMOKE_STEPS:-"version init demo print-volume gui"}
BUILD=1
DIST=
while [ $# -gt 0 ]; do
    case "$1" in
        --steps) STEPS="$2"; shift 2 ;;
        --dist) mkdir -p "$2"; DIST=$(cd "$2" && pwd); shift 2 ;;
        --no-build) BUILD=0; shift ;;
        *) echo "usage: $0 [--steps \"STEP ...\"] [--dist DIR] [--no-build]" >&2; exit 64 ;;
    esac
done
if [ "$BUILD" = 0 ] && [ -z "$DIST" ]; then
    echo "smoke: --no-build needs --dist DIR (the folder a previous --dist DIR run kept)" >&2
    exit 64
fi

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/foodarchive-smoke.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

PYTHON=${PYTHON:-python3}
# PyInstaller's cache of analysed libraries, kept with the build (not in HOME).
export PYINSTALLER_CONFIG_DIR=${PYINSTALLER_CONFIG_DIR:-$ROOT/build/pyinstaller-cache}
VENV=$ROOT/build/venv
DIST=${DIST:-$SCRATCH/dist}
BUNDLE=$DIST/FoodArchive
VERSION=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

if [ "$BUILD" = 1 ]; then
    start=$(date +%s)
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check ".[build]"
    # A local folder of an unchanged version may count as installed: put today's code in.
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall .
    installed=$(date +%s)
    "$VENV/bin/python" -m PyInstaller --noconfirm --log-level WARN \
        --distpath "$DIST" --workpath "$SCRATCH/pyinstaller" installer/foodarchive.spec
    end=$(date +%s)
    echo "smoke: install $((installed - start)) s, PyInstaller $((end - installed)) s, build total $((end - start)) s"
fi
[ -x "$BUNDLE/foodarchive-cli" ] || { echo "smoke: no bundle at $BUNDLE" >&2; exit 1; }
echo "smoke: bundle $(du -sm "$BUNDLE" | cut -f1) MB, $(find "$BUNDLE" -type f | wc -l) files"

export HOME=$SCRATCH/home XDG_DATA_HOME=$SCRATCH/home/data XDG_CONFIG_HOME=$SCRATCH/home/config \
    XDG_CACHE_HOME=$SCRATCH/home/cache XDG_STATE_HOME=$SCRATCH/home/state
unset FOODARCHIVE_DB
mkdir -p "$HOME"
cd "$SCRATCH"
DB=$SCRATCH/smoke.db
CLI=$BUNDLE/foodarchive-cli

step() {  # step NAME COMMAND...: run, time, stop the script on failure
    local name=$1 t0 rc
    shift
    t0=$(date +%s)
    set +e
    "$@" </dev/null
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
        echo "smoke: step $name FAILED (exit $rc)" >&2
        tail -n 20 "$XDG_STATE_HOME/FoodArchive/log/foodarchive.log" 2>/dev/null >&2 || true
        exit 1
    fi
    echo "smoke: step $name ok ($(($(date +%s) - t0)) s)"
}

check_version() {
    local said
    said=$("$CLI" --version)
    [ "$said" = "foodarchive $VERSION" ] || { echo "expected 'foodarchive $VERSION', got '$said'" >&2; return 1; }
}

print_volume() {
    local archive
    archive=$("$VENV/bin/python" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT archive_no FROM archive ORDER BY id LIMIT 1").fetchone()[0])' "$DB" 2>/dev/null) \
        || { echo "print-volume: no archive in $DB (the init and demo steps come first)" >&2; return 1; }
    "$CLI" --db "$DB" print-volume "$archive" --out "$SCRATCH/volume.pdf" || return
    [ -s "$SCRATCH/volume.pdf" ] || { echo "print-volume wrote no PDF" >&2; return 1; }
    echo "smoke: volume of $archive: $(wc -c <"$SCRATCH/volume.pdf") bytes"
}

for name in $STEPS; do
    case "$name" in
        version) step version check_version ;;
        init) step init "$CLI" --db "$DB" init ;;
        demo) step demo "$CLI" --db "$DB" demo ;;
        print-volume) step print-volume print_volume ;;
        gui) step gui env QT_QPA_PLATFORM=offscreen "$BUNDLE/FoodArchive" --db "$DB" gui --smoke ;;
        *) echo "smoke: unknown step $name" >&2; exit 64 ;;
    esac
done
echo "smoke: passed: $STEPS"
