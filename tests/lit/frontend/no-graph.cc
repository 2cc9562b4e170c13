// A program with no RAYCC_GRAPH, and a host compiler that does not exist:
// both are clear errors.
//
// RUN: not raycc compile %s -o %t.rcx 2>&1 | FileCheck %s
// CHECK: raycc compile: {{.*}}no-graph.cc defines no graph (RAYCC_GRAPH)
// RUN: not env CXX=no-such-compiler raycc compile %s -o %t.rcx 2>&1 | FileCheck %s --check-prefix=NOCXX
// NOCXX: raycc compile: cannot find the host C++ compiler 'no-such-compiler' (set $CXX)
// RUN: not raycc compile %s --cxxflags=-DBROKEN -o %t.rcx 2>&1 | FileCheck %s --check-prefix=BROKEN
// BROKEN: error: #error "the host compiler's own error, shown as it is"
// BROKEN: raycc compile: the host C++ compiler failed (exit code 1) on {{.*}}no-graph.cc

#include <raycc/graph.h>

#ifdef BROKEN
#error "the host compiler's own error, shown as it is"
#endif

int64_t Unused(int64_t x) { return x; }
RAYCC_REMOTE(Unused);
