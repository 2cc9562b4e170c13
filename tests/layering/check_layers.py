#!/usr/bin/env python3
"""Re-checks the layer rule (docs/architecture.md) on what was built.

Three independent checks, any of which fails the test:
  1. link closures written by cmake/RayccLayers.cmake (build/layering/*.deps):
     no proto or runtime target reaches LLVM/MLIR;
  2. DT_NEEDED of the runtime binaries given with --binary: no libLLVM/libMLIR;
  3. #include lines of the sources: runtime/ and proto/ include no llvm/ or
     mlir/ header, ir/ and passes/ include no runtime header, and nothing in
     runtime/ but the API (runtime/api/, runtime/include/) and the APIs built
     on it (runtime/compat/: Ray's <ray/api.h>) includes the user API
     <raycc/api.h>: runtime components speak RuntimeInterface.

`check_layers.py selftest FIXTURES` runs checks 1 and 3 on deliberately bad
fixtures and fails unless each violation is reported, so the checker itself
is known to be able to fail.
"""
import argparse
import os
import re
import subprocess
import sys

LLVM_ITEM = re.compile(r"^(LLVM|MLIR|mlir-|llvm-)|(^|/)lib(LLVM|MLIR)[^/]*$|/llvm-[0-9]+/")
LLVM_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](llvm|mlir|llvm-c|mlir-c)/')
RUNTIME_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]raycc/runtime/')
USER_API_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]raycc/api\.h[>"]')
# (folder, path prefixes inside it exempt from the rule)
USER_API_EXEMPT = ("runtime/api/", "runtime/include/", "runtime/compat/")
NO_LLVM_LAYERS = {"proto", "runtime", "dsl"}
# folder -> include patterns it must not use
SOURCE_RULES = {
    "runtime": [(LLVM_INCLUDE, "includes an LLVM/MLIR header")],
    "proto": [(LLVM_INCLUDE, "includes an LLVM/MLIR header")],
    "ir": [(RUNTIME_INCLUDE, "includes a runtime header")],
    "passes": [(RUNTIME_INCLUDE, "includes a runtime header")],
}
SOURCE_EXTS = (".h", ".hpp", ".cc", ".cpp", ".cu", ".cuh", ".inc", ".proto")


def check_deps(deps_dir):
    errors = []
    files = sorted(f for f in os.listdir(deps_dir) if f.endswith(".deps"))
    if not files:
        errors.append(f"{deps_dir}: no .deps files (was cmake/RayccLayers.cmake run?)")
    for name in files:
        with open(os.path.join(deps_dir, name)) as f:
            lines = [l.strip() for l in f if l.strip()]
        layer = lines[0].split()[1] if lines and lines[0].startswith("layer ") else None
        if layer in NO_LLVM_LAYERS:
            for item in lines[1:]:
                if LLVM_ITEM.search(item):
                    errors.append(f"{name[:-5]} (layer {layer}) links LLVM/MLIR: {item}")
    return errors, len(files)


def check_binary(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
    if out.returncode != 0:
        return [f"{path}: readelf failed: {out.stderr.strip()}"]
    needed = re.findall(r"\(NEEDED\).*\[(.*)\]", out.stdout)
    return [f"{path} needs {lib}" for lib in needed if re.match(r"lib(LLVM|MLIR)", lib)]


def check_sources(root):
    errors = []
    scanned = 0
    for folder, rules in SOURCE_RULES.items():
        top = os.path.join(root, folder)
        for dirpath, _, filenames in os.walk(top):
            for fn in filenames:
                if not fn.endswith(SOURCE_EXTS):
                    continue
                path = os.path.join(dirpath, fn)
                scanned += 1
                rel = os.path.relpath(path, root)
                api_checked = folder == "runtime" and not rel.startswith(USER_API_EXEMPT)
                with open(path, errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        for pattern, what in rules:
                            if pattern.search(line):
                                errors.append(f"{rel}:{lineno}: {folder}/ {what}: {line.strip()}")
                        if api_checked and USER_API_INCLUDE.search(line):
                            errors.append(f"{rel}:{lineno}: runtime/ outside the API includes the user API: "
                                          f"{line.strip()}")
    return errors, scanned


def selftest(fixtures):
    deps_errors, _ = check_deps(os.path.join(fixtures, "deps"))
    src_errors, _ = check_sources(fixtures)
    expected = [
        (deps_errors, "bad_runtime_lib (layer runtime) links LLVM/MLIR: MLIRIR"),
        (deps_errors, "bad_runtime_lib (layer runtime) links LLVM/MLIR: /usr/lib/llvm-22/lib/libLLVM.so.22.1"),
        (src_errors, "runtime/ includes an LLVM/MLIR header: #include \"mlir/IR/Builders.h\""),
        (src_errors, "ir/ includes a runtime header"),
        (src_errors, "runtime/ outside the API includes the user API: #include \"raycc/api.h\""),
    ]
    missing = [msg for errs, msg in expected if not any(msg in e for e in errs)]
    if any("good_runtime_lib" in e for e in deps_errors):
        missing.append("a clean target was reported as a violation")
    for m in missing:
        print(f"selftest: the checker missed: {m}")
    if missing:
        return 1
    print(f"selftest: all {len(expected)} planted violations reported")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "selftest":
        return selftest(sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deps-dir", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--binary", action="append", default=[], help="a runtime-layer binary to inspect")
    args = ap.parse_args()
    errors, ntargets = check_deps(args.deps_dir)
    for b in args.binary:
        errors += check_binary(b)
    src_errors, nsources = check_sources(args.source_root)
    errors += src_errors
    for e in errors:
        print(f"layer rule violated: {e}")
    if errors:
        return 1
    print(f"layer rule holds: {ntargets} targets, {len(args.binary)} binaries, {nsources} sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
