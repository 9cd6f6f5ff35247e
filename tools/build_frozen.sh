#!/usr/bin/env bash
# Build the one-folder frozen Mimamori with build.spec and smoke-test the frozen binary offscreen.
#
#   tools/build_frozen.sh [OUT]        (default OUT: /tmp/mimamori-frozen)
#
# OUT/dist/mimamori/ is the folder that ships (mimamori, mimamori-cli, _internal/).
# The smoke test runs each pipeline step whose command exists in the frozen binary:
#   init -> generate (300 children) -> import -> score -> snapshot
# A missing command is reported as SKIPPED; a command that exists and fails stops the script
# with a non-zero exit code. The generated delivery and the store live in a temporary folder
# that is deleted on exit (synthetic data counts as person data).
#
# Environment: PYTHON (default: .venv or /work/venv with PyInstaller installed, else python3),
#              SMOKE_CHILDREN (default 300), KEEP_SMOKE=1 keeps the smoke folder for inspection.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-/tmp/mimamori-frozen}"
if [[ -z "${PYTHON:-}" ]]; then
  # The project's own virtual environment (tools/setup.sh), else the shared one, else python3.
  for candidate in "$ROOT/.venv/bin/python" /work/venv/bin/python; do
    if [[ -x "$candidate" ]] && "$candidate" -c "import PyInstaller" 2>/dev/null; then PYTHON="$candidate"; break; fi
  done
  PYTHON="${PYTHON:-python3}"
fi
CHILDREN="${SMOKE_CHILDREN:-300}"

fail() { echo "build_frozen: FAILED: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

"$PYTHON" -c "import PyInstaller" 2>/dev/null || fail "PyInstaller is not installed for $PYTHON (pip install -e \".[build]\")"
step "building with PyInstaller into $OUT"
mkdir -p "$OUT"
t0=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$OUT/dist" --workpath "$OUT/work" "$ROOT/build.spec" \
  > "$OUT/pyinstaller.log" 2>&1 || { tail -40 "$OUT/pyinstaller.log" >&2; fail "PyInstaller (log: $OUT/pyinstaller.log)"; }
t1=$(date +%s)
APPDIR="$OUT/dist/mimamori"
CLI="$APPDIR/mimamori-cli"
[[ -x "$CLI" ]] || fail "no $CLI after the build"
[[ -x "$APPDIR/mimamori" ]] || fail "no GUI program $APPDIR/mimamori after the build"
size_mb=$(du -sm "$APPDIR" | cut -f1)
files=$(find "$APPDIR" -type f | wc -l)
echo "built in $((t1 - t0)) s: $APPDIR — ${size_mb} MB in ${files} files"

# --- smoke test --------------------------------------------------------------------------------
export QT_QPA_PLATFORM=offscreen
export QTWEBENGINE_CHROMIUM_FLAGS="${QTWEBENGINE_CHROMIUM_FLAGS:---no-sandbox --disable-gpu}"
export MIMAMORI_LANG=ja
SMOKE="$(mktemp -d /tmp/mimamori-smoke-XXXXXX)"
cleanup() { if [[ -z "${KEEP_SMOKE:-}" ]]; then rm -rf "$SMOKE"; else echo "kept $SMOKE"; fi; }
trap cleanup EXIT
# The smoke store's password; the folder is private to this run and deleted afterwards.
umask 077
printf 'frozen-Smoke-%s-pass\n' "$RANDOM$RANDOM" > "$SMOKE/password"
DB="$SMOKE/smoke.db"
LOGIN=(--db "$DB" --user admin --password-file "$SMOKE/password")

step "the frozen program starts"
help_text="$("$CLI" --help)" || fail "'mimamori-cli --help' did not run"
# argparse lists the commands as {gui,demo,init,...} on the usage line.
commands="$(printf '%s\n' "$help_text" | tr -d ' \n' | grep -o '{[a-z,_-]*}' | head -1 | tr -d '{}' | tr ',' ' ')"
[[ -n "$commands" ]] || fail "could not read the command list from --help"
echo "commands: $commands"
has() { [[ " $commands " == *" $1 "* ]]; }
options_of() { "$CLI" "$1" --help 2>/dev/null || true; }

ran=()
skipped=()
timed() {  # timed LABEL CMD... : run, print its wall time, fail loudly on a non-zero exit
  local label="$1"; shift
  local s e
  s=${EPOCHREALTIME/[.,]/}
  "$@" > "$SMOKE/$label.out" 2>&1 || { cat "$SMOKE/$label.out" >&2; fail "$label exited non-zero"; }
  e=${EPOCHREALTIME/[.,]/}
  tail -3 "$SMOKE/$label.out"
  printf '%s: ok in %d ms\n' "$label" $(( (e - s) / 1000 ))
  ran+=("$label")
}

step "init"
has init || fail "the frozen binary has no 'init' command"
timed init "$CLI" init "${LOGIN[@]}"
[[ -s "$DB" ]] || fail "init did not create $DB"

DELIVERY="$SMOKE/delivery"
step "generate ($CHILDREN children)"
if has generate; then
  timed generate "$CLI" generate "$DELIVERY" --children "$CHILDREN" --seed 7
  [[ -n "$(ls -A "$DELIVERY" 2>/dev/null)" ]] || fail "generate wrote nothing into $DELIVERY"
else
  echo "SKIPPED: no 'generate' command yet"; skipped+=(generate)
fi

step "import"
if has import; then
  [[ -d "$DELIVERY" ]] || fail "'import' exists but there is no generated delivery to import"
  # The import command takes the delivery folder positionally or with --folder/--delivery.
  import_opts="$(options_of import)"
  if grep -q -- '--folder' <<<"$import_opts"; then
    timed import "$CLI" import "${LOGIN[@]}" --folder "$DELIVERY"
  elif grep -q -- '--delivery' <<<"$import_opts"; then
    timed import "$CLI" import "${LOGIN[@]}" --delivery "$DELIVERY"
  else
    timed import "$CLI" import "${LOGIN[@]}" "$DELIVERY"
  fi
else
  echo "SKIPPED: no 'import' command yet"; skipped+=(import)
fi

step "score"
if has score; then
  timed score "$CLI" score "${LOGIN[@]}"
else
  echo "SKIPPED: no 'score' command yet"; skipped+=(score)
fi

step "snapshot"
has snapshot || fail "the frozen binary has no 'snapshot' command"
# The district map is the page that needs QtWebEngine, Leaflet and folium: the heaviest check.
PNG="$SMOKE/map.png"
timed snapshot "$CLI" snapshot "${LOGIN[@]}" --view map --out "$PNG"
png_bytes=$(stat -c %s "$PNG" 2>/dev/null || echo 0)
(( png_bytes > 5000 )) || fail "snapshot PNG is missing or too small ($png_bytes bytes)"
echo "snapshot: $png_bytes bytes"
if [[ -n "${SNAPSHOT_COPY:-}" ]]; then cp "$PNG" "$SNAPSHOT_COPY"; fi

step "summary"
echo "frozen build: $APPDIR, ${size_mb} MB, built in $((t1 - t0)) s"
echo "smoke steps passed: ${ran[*]}"
if (( ${#skipped[@]} )); then echo "smoke steps not available yet (skipped): ${skipped[*]}"; fi
echo "build_frozen: OK"
