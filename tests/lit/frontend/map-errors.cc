// FileCheck lines must stay whole and source lines keep their numbers:
// clang-format off
// g.Map's misuses are C++ compile errors that say what is wrong.
//
// RUN: not raycc compile %s -DCASE_NO_INDEX -o %t.rcx 2>&1 | FileCheck %s --check-prefix=NOINDEX
// NOINDEX: static assertion failed: g.Map's function takes the shard index (int64_t) first
// RUN: not raycc compile %s -DCASE_VOID -o %t.rcx 2>&1 | FileCheck %s --check-prefix=VOID
// VOID: static assertion failed: g.Map's function returns each shard's result
// RUN: not raycc compile %s -DCASE_CHAR -o %t.rcx 2>&1 | FileCheck %s --check-prefix=CHAR
// CHAR: static assertion failed: g.Map's shards cannot return char or unsigned char
// RUN: not raycc compile %s -DCASE_OBJECTREF -o %t.rcx 2>&1 | FileCheck %s --check-prefix=OBJECTREF
// OBJECTREF: static assertion failed: g.Map's shards cannot return an ObjectRef
// RUN: not raycc compile %s -DCASE_PER_SHARD_TASK -o %t.rcx 2>&1 | FileCheck %s --check-prefix=PERSHARDTASK
// PERSHARDTASK: static assertion failed: raycc::PerShard is for the arguments of g.Map
// RUN: not raycc compile %s -DCASE_NODE -o %t.rcx 2>&1 | FileCheck %s --check-prefix=NODE
// NODE: static assertion failed: a map's shards are placed by the runtime: use SetSchedulingStrategy, SetLabelSelector or SetPlacementGroup
// RUN: not raycc compile %s -DCASE_ARITY -o %t.rcx 2>&1 | FileCheck %s --check-prefix=ARITY
// ARITY: static assertion failed: wrong number of arguments for the remote function
// RUN: raycc compile %s -o %t.rcx
// RUN: raycc run %t.rcx | FileCheck %s --check-prefix=OK
// OK: out: [0, 1, 2]

#include <raycc/graph.h>

#include <cstdint>

int64_t Index(int64_t shard) { return shard; }
int64_t NoIndex(double x) { return static_cast<int64_t>(x); }
void Nothing(int64_t) {}
char Letter(int64_t) { return 'a'; }
raycc::ObjectRef<int64_t> Ref(int64_t) { return raycc::ObjectRef<int64_t>(); }
int64_t Plus(int64_t a, int64_t b) { return a + b; }
RAYCC_REMOTE(Index, NoIndex, Nothing, Letter, Ref, Plus);

RAYCC_GRAPH(g, raycc::GraphBuilder& g) {
  auto all = g.Map(Index, 3).Call();
#ifdef CASE_NO_INDEX
  g.Map(NoIndex, 3).Call();
#endif
#ifdef CASE_VOID
  g.Map(Nothing, 3).Call();
#endif
#ifdef CASE_CHAR
  g.Map(Letter, 3).Call();
#endif
#ifdef CASE_OBJECTREF
  g.Map(Ref, 3).Call();
#endif
#ifdef CASE_PER_SHARD_TASK
  g.Task(Plus).Call(raycc::PerShard(all), int64_t{1});
#endif
#ifdef CASE_NODE
  g.Map(Index, 3).SetNodeAffinity("a").Call();
#endif
#ifdef CASE_ARITY
  g.Map(Index, 3).Call(int64_t{1});
#endif
  g.Output("out", all);
}
