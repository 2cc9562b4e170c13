"""Prints the first ```cpp block of a Markdown file (the guide's first example)."""
import sys

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
start = lines.index("```cpp") + 1
end = lines.index("```", start)
print("\n".join(lines[start:end]))
