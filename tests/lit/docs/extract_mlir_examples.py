#!/usr/bin/env python3
"""Prints every ```mlir block of the given Markdown files, separated by
`// -----`, so `raycc-opt -split-input-file` can check that each parses."""
import re
import sys

blocks = []
for path in sys.argv[1:]:
    with open(path) as f:
        text = f.read()
    for m in re.finditer(r"^```mlir\n(.*?)^```", text, re.S | re.M):
        blocks.append(f"// from {path}\n" + m.group(1))
if not blocks:
    sys.exit("no ```mlir blocks found")
print("\n// -----\n".join(blocks))
