#!/bin/sh
# The visualizer end to end on a real example: compile the parameter-server
# graph (2 steps of 4 shards: 24 plan nodes, one placement group of 5
# bundles), run it with a timeline on 8 worker threads, draw the page and
# check it in headless Chromium: one lane per thread the timeline names.
#
#   example_run_test.sh RAYCC SOURCE_DIR OUT_DIR
set -eu
raycc=$1 src=$2 out=$3
command -v dot >/dev/null 2>&1 || { echo "SKIP: needs Graphviz dot"; exit 77; }
mkdir -p "$out"
"$raycc" compile "$src/examples/graphs/param_server.cc" -lz --param shards=4 --param steps=2 \
  --cluster="$src/examples/clusters/lab.json" -o "$out/ps.rcx"
"$raycc" run "$out/ps.rcx" --input data="$src/examples/data/digits.csv.gz" --num-cpus 8 \
  --timeline "$out/run.json" > "$out/outputs.txt"
"$raycc" viz "$out/ps.rcx" --timeline "$out/run.json" -o "$out/run.html"
# The threads that ran work (the workers that got any, and the actor's).
workers=$(grep -c '"name": "thread_name"' "$out/run.json")
[ "$workers" -ge 2 ] || { echo "FAIL: the timeline names $workers thread(s)"; exit 1; }
# The line of the Gradient call in the source: clicking a Gradient node shows it.
line=$(grep -n 'g.Task(Gradient)' "$src/examples/graphs/param_server.cc" | cut -d: -f1)
exec "$src/tests/viz/browser_test.sh" "$out/run.html" --nodes 24 --groups 1 --workers "$workers" \
  --search Gradient --click-shows "param_server.cc:$line" --screenshot "$out/run.png"
