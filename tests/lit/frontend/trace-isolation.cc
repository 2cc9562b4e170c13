// FileCheck lines must stay whole and source lines keep their numbers:
// clang-format off
// `raycc compile` loads and traces the user's program in a child process
// under a time limit: a crash, an abort or an endless loop in the graph's
// code (or in a static initializer of the program) is the program's error,
// reported with where it was, and raycc itself neither dies nor hangs.
//
// RUN: rm -f %t.rcx
// RUN: not raycc compile %s --param mode=1 -o %t.rcx 2>&1 | FileCheck %s --check-prefix=SEGV
// SEGV: raycc compile: error: the graph program crashed (Segmentation fault) while tracing graph 'g', after the op at {{.*}}trace-isolation.cc:43
// RUN: not raycc compile %s --param mode=2 --trace-timeout=2 -o %t.rcx 2>&1 | FileCheck %s --check-prefix=LOOP
// LOOP: the graph program did not finish loading and tracing in time (--trace-timeout); it was still running while tracing graph 'g', after the op at {{.*}}trace-isolation.cc:43
// LOOP: raycc compile: the graph program ran longer than --trace-timeout=2 s while loading or tracing (an endless loop?)
// RUN: not raycc compile %s --param mode=3 -o %t.rcx 2>&1 | FileCheck %s --check-prefix=ABORT
// ABORT: the graph program crashed (Aborted) while tracing graph 'g', after the op at {{.*}}trace-isolation.cc:43
// RUN: not raycc compile %s --param mode=4 -o %t.rcx 2>&1 | FileCheck %s --check-prefix=THROW
// THROW: trace-isolation.cc:43:{{[0-9]+}}: error: tracing graph 'g' threw: bad mode (after the op at line 43)
// RUN: not raycc compile %s -DCASE_INIT --param mode=0 -o %t.rcx 2>&1 | FileCheck %s --check-prefix=INIT
// INIT: the graph program crashed (Segmentation fault) while its task library was being loaded (in a static initializer)
// RUN: not test -e %t.rcx
// RUN: raycc compile %s --param mode=0 -o %t.rcx
// RUN: raycc run %t.rcx | FileCheck %s --check-prefix=RESULT
// RESULT: out: 5

#include <raycc/graph.h>

#include <cstdlib>
#include <stdexcept>

int64_t Inc(int64_t x) { return x + 1; }
RAYCC_REMOTE(Inc);

#ifdef CASE_INIT
static int crash_on_load = [] {
  volatile int* p = nullptr;
  *p = 1;
  return 0;
}();
#endif

RAYCC_GRAPH(g, raycc::GraphBuilder& g, int64_t mode) {
  auto x = g.Task(Inc).Call(int64_t{3});
  x = g.Task(Inc).Call(x);
  if (mode == 1) *static_cast<volatile int*>(nullptr) = 1;
  if (mode == 2) for (volatile bool forever = true; forever;) {}
  if (mode == 3) std::abort();
  if (mode == 4) throw std::invalid_argument("bad mode");
  g.Output("out", x);
}
