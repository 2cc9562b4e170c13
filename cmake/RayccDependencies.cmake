# Finds every third-party dependency. The recipes are the ones known to work on
# Debian 12 with LLVM/MLIR 22 (see docs/build.md).

find_package(Threads REQUIRED)

# --- Protobuf and gRPC (runtime, proto) ------------------------------------
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)

# --- Abseil, Boost, msgpack (runtime) ---------------------------------------
find_package(absl CONFIG REQUIRED)
# Content hashes of uploaded code and the cluster token's randomness.
find_package(OpenSSL REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS graph)
find_package(msgpack-cxx CONFIG QUIET)
if(NOT TARGET msgpack-cxx)
  find_package(msgpack CONFIG REQUIRED)
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)

# --- MLIR / LLVM 22 (ir, passes, frontend, tools) --------------------------
# Pin to LLVM 22: a bare find_package(LLVM) can pick another installed LLVM.
find_package(MLIR REQUIRED CONFIG HINTS /usr/lib/llvm-22/lib/cmake/mlir)
message(STATUS "raycc: MLIR ${MLIR_DIR}, LLVM ${LLVM_PACKAGE_VERSION}")
list(APPEND CMAKE_MODULE_PATH ${MLIR_CMAKE_DIR} ${LLVM_CMAKE_DIR})
set(LLVM_RUNTIME_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/bin)
set(LLVM_LIBRARY_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/lib)
set(MLIR_BINARY_DIR ${CMAKE_BINARY_DIR})
include(TableGen)
include(AddLLVM)
include(AddMLIR)
set(RAYCC_LLVM_TOOLS_DIR ${LLVM_TOOLS_BINARY_DIR})
separate_arguments(RAYCC_LLVM_DEFINITIONS UNIX_COMMAND "${LLVM_DEFINITIONS}")

# --- Tests and benchmarks --------------------------------------------------
find_package(GTest REQUIRED)
find_package(benchmark CONFIG REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
# lit ships with llvm-22-tools (there is no python3-lit package).
find_program(RAYCC_LIT_PY NAMES lit lit.py
  PATHS ${LLVM_TOOLS_BINARY_DIR} /usr/lib/llvm-22/bin /usr/lib/llvm-22/build/utils/lit NO_DEFAULT_PATH REQUIRED)
find_program(RAYCC_FILECHECK FileCheck PATHS ${LLVM_TOOLS_BINARY_DIR} NO_DEFAULT_PATH REQUIRED)
