"""Checks where placement_strategies.cc ran on the simulated lab cluster,
from its timeline: each strategy's promise, not one particular layout."""
import json
import sys

nodes = {}
for e in json.load(open(sys.argv[1])):
    if e.get("ph") == "X":
        nodes.setdefault(e["name"], []).append(e["args"]["node"])
gpu = {"gpu-1", "gpu-2"}
assert len(nodes["Preprocess"]) == 2 and len(set(nodes["Preprocess"])) == 1, nodes  # strict_pack
assert sorted(nodes["Train"]) == ["gpu-1", "gpu-2"], nodes  # strict_spread, on the GPU nodes
assert len(nodes["Evaluate"]) == 2 and len(set(nodes["Evaluate"])) == 1, nodes  # pack: fits one node
assert len(nodes["Log"]) == 2 and len(set(nodes["Log"])) == 2, nodes  # spread: distinct when possible
print("placements ok:", json.dumps(nodes, sort_keys=True))
