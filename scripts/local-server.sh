#!/usr/bin/env bash
# Start llama-server for one of the local real judges (see scripts/setup-local.sh).
#
#   scripts/local-server.sh MODEL [--port P] [--parallel N] [--ctx-per-slot C]
#                                 [--threads T] [--print] [-- EXTRA llama-server ARGS]
#
# MODEL: smollm2 | gemma.  Defaults: port 8181, parallel 1, 2048 tokens of
# context PER SLOT (the server splits -c evenly over --parallel slots, so the
# script passes -c = ctx-per-slot * parallel), threads = nproc.
# --print: print the command line instead of exec'ing it.
# The server listens on 127.0.0.1 only.
set -euo pipefail

JP_HOME="${JUDGEPANEL_HOME:-$HOME/.cache/judgepanel}"
SERVER="${JUDGEPANEL_LLAMA_SERVER:-$JP_HOME/bin/llama-server}"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
model="$1"; shift
port=8181; parallel=1; ctx_slot=2048; threads="$(nproc 2>/dev/null || echo 2)"; print=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --ctx-per-slot) ctx_slot="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --print) print=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "local-server: unknown argument: $1" >&2; usage ;;
  esac
done

case "$model" in
  smollm2)
    gguf="${JUDGEPANEL_SMOLLM2:-$JP_HOME/models/smollm2-135m-instruct-q4_1.gguf}"
    # SmolLM2-Instruct ships a ChatML chat template in its GGUF metadata: use it.
    model_args=(--jinja) ;;
  gemma)
    gguf="${JUDGEPANEL_GEMMA:-$JP_HOME/models/gemma3-270m-q4_k_m.gguf}"
    # The packaged Gemma 3 270M is the *base* model: its GGUF has no chat
    # template and the server would silently fall back to ChatML. Force the
    # built-in gemma template (<start_of_turn>user ... <end_of_turn>).
    model_args=(--no-jinja --chat-template gemma) ;;
  *) echo "local-server: unknown model '$model' (smollm2|gemma)" >&2; exit 2 ;;
esac

cmd=("$SERVER" -m "$gguf" --host 127.0.0.1 --port "$port"
     -c "$((ctx_slot * parallel))" --parallel "$parallel" -ngl 0 -t "$threads"
     "${model_args[@]}" --no-webui "${extra[@]}")

if [ "$print" = 1 ]; then
  printf '%q ' "${cmd[@]}"; echo
else
  [ -x "$SERVER" ] || { echo "local-server: $SERVER missing; run scripts/setup-local.sh" >&2; exit 1; }
  [ -f "$gguf" ] || { echo "local-server: $gguf missing; run scripts/setup-local.sh" >&2; exit 1; }
  exec "${cmd[@]}"
fi
