#!/usr/bin/env bash
# The runtime benchmark next to its peers, in one run:
#
#   bench/runtime/compare.sh [--quick]
#
# Builds raycc's benchmark (build/), compiles the 10,000-task butterfly graph
# with `raycc compile`, runs the oneTBB and Dask (threads) peer benchmarks of
# ../shared/bench/peers (they install and build themselves; outputs under
# $OUT), then build/bench/runtime_bench, and prints both tables. It takes
# several minutes and both cores: not part of CI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PEERS="${PEERS:-$ROOT/../shared/bench/peers}"
OUT="${OUT:-$(mktemp -d /tmp/raycc-compare.XXXXXX)}"
QUICK=()
BENCH_ARGS=()
for a in "$@"; do
  case "$a" in
    --quick) QUICK=(--quick); BENCH_ARGS=(--tasks 20000 --queued 200000 --big-mib 64) ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument '$a' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
cmake --build build -j "${RAYCC_JOBS:-2}" --target runtime_bench raycc >/dev/null
build/bin/raycc compile bench/trace_scale/trace_program.cc --graph butterfly --param tasks=10000 --param width=100 \
  -o "$OUT/butterfly.rcx"
if [[ -x "$PEERS/run_all.sh" ]]; then
  echo "== peers (oneTBB flow graph, Dask distributed with threads): $OUT/peers"
  OUT="$OUT/peers" BUILD="$OUT/peers-build" "$PEERS/run_all.sh" "${QUICK[@]}" tbb dask-threads \
    >"$OUT/peers.log" 2>&1 || echo "(a peer step failed: see $OUT/peers.log)"
else
  echo "(no peer scripts at $PEERS: raycc only)"
fi
echo "== raycc ($(date -u +%FT%TZ), $(nproc) CPUs)"
build/bench/runtime_bench --graph "$OUT/butterfly.rcx" "${BENCH_ARGS[@]}"
if compgen -G "$OUT/peers/*.jsonl" >/dev/null; then
  echo "== peers, same run"
  /usr/bin/python3 "$PEERS/summarize.py" "$OUT"/peers/*.jsonl
fi
