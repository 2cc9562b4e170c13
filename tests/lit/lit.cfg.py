# lit configuration for raycc's FileCheck tests. One `ctest` runs this suite as
# the test `lit`; run it alone with `build/bin/raycc-lit` (or lit.py build/tests/lit).
import os
import sys

import lit.formats

config.name = "raycc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test", ".cc"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "check_placements.py", "extract_cpp_example.py", "extract_mlir_examples.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.raycc_obj_root, "tests", "lit")

# Our tools first, then LLVM's FileCheck/not/count.
config.environment["PATH"] = os.pathsep.join(
    [config.raycc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%raycc_src", config.raycc_src_root))
# `raycc compile prog.cc` runs the host compiler; keep the caller's choice and
# cache its work when ccache is there (the test programs rarely change).
import shutil
cxx = os.environ.get("CXX") or "c++"
if shutil.which("ccache") and "ccache" not in cxx:
    cxx = "ccache " + cxx
config.environment["CXX"] = cxx
for var in ("HOME", "CCACHE_DIR", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
config.substitutions.append(("%python", sys.executable))
if shutil.which("dot"):
    config.available_features.add("graphviz")
if config.raycc_have_cuda:
    config.available_features.add("cuda")
