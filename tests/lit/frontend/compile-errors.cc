// FileCheck lines must stay whole and source lines keep their numbers:
// clang-format off
// Every way `raycc compile prog.cc` can fail names the cause: the host
// compiler's own errors unchanged (type mistakes are C++ compile errors),
// trace-time parameters, a graph that throws, and compiler diagnostics at
// the user's source line.
//
// RUN: rm -f %t.rcx
// RUN: not raycc compile %s -DCASE_TYPE -o %t.rcx 2>&1 | FileCheck %s --check-prefix=TYPE
// TYPE: error: static assertion failed: an argument must be a raycc::Value of the parameter's type, or a number
// TYPE: raycc compile: the host C++ compiler failed (exit code 1) on {{.*}}compile-errors.cc
// RUN: not raycc compile %s -DCASE_ARITY -o %t.rcx 2>&1 | FileCheck %s --check-prefix=ARITY
// ARITY: error: static assertion failed: wrong number of arguments for the remote function
// RUN: not raycc compile %s -DCASE_OBJECTREF -o %t.rcx 2>&1 | FileCheck %s --check-prefix=OBJECTREF
// OBJECTREF: static assertion failed: an ObjectRef is a run-time object; in a graph pass a raycc::Value
//
// RUN: not raycc compile %s -o %t.rcx 2>&1 | FileCheck %s --check-prefix=NOPARAM
// NOPARAM: compile-errors.cc:62:1: error: graph 'g' needs a value for its parameter 'n' (int64_t): pass --param n=VALUE
// RUN: not raycc compile %s --param n=two -o %t.rcx 2>&1 | FileCheck %s --check-prefix=BADPARAM
// BADPARAM: error: tracing graph 'g' threw: parameter 'n' is an integer from -9223372036854775808 to 9223372036854775807; got 'two'
// RUN: not raycc compile %s --param n=1 --param m=2 -o %t.rcx 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: raycc compile: no graph takes a parameter named 'm'
// RUN: not raycc compile %s --param n=1 --graph nope -o %t.rcx 2>&1 | FileCheck %s --check-prefix=NOGRAPH
// NOGRAPH: raycc compile: no graph named 'nope' in {{.*}}compile-errors.cc
// RUN: not raycc compile %s --param=nonsense -o %t.rcx 2>&1 | FileCheck %s --check-prefix=PARAMSYNTAX
// PARAMSYNTAX: raycc compile: --param takes name=value; got 'nonsense'
//
// RUN: not raycc compile %s --param n=-1 -o %t.rcx 2>&1 | FileCheck %s --check-prefix=THROW
// THROW: compile-errors.cc:62:1: error: tracing graph 'g' threw: n must not be negative
// RUN: not raycc compile %s --param n=1 -DCASE_KILL -o %t.rcx 2>&1 | FileCheck %s --check-prefix=KILL
// KILL: compile-errors.cc:78:{{[0-9]+}}: error: calls an actor that was already killed
// RUN: not raycc compile %s --param n=1 -DCASE_RESOURCES -o %t.rcx 2>&1 | FileCheck %s --check-prefix=RESOURCES
// RESOURCES: compile-errors.cc:87:{{[0-9]+}}: error: resource 'CPU': negative quantity
// RUN: not raycc compile %s --param n=1 -DCASE_INFEASIBLE --cluster=%raycc_src/examples/clusters/lab.json -o %t.rcx 2>&1 | FileCheck %s --check-prefix=INFEASIBLE
// INFEASIBLE: compile-errors.cc:90:{{[0-9]+}}: error: task @Inc asks for {GPU = 4.0}, but no node has that much
// RUN: not raycc compile %s --param n=1 -DCASE_CONCURRENCY -o %t.rcx 2>&1 | FileCheck %s --check-prefix=CONCURRENCY
// CONCURRENCY: compile-errors.cc:81:{{[0-9]+}}: error: 'ray.actor.create' op max_concurrency must be >= 1, got 0
// RUN: not raycc compile %s --param n=1 -DCASE_ACTOR_RESOURCES -o %t.rcx 2>&1 | FileCheck %s --check-prefix=ACTORRES
// ACTORRES: static assertion failed: an actor call runs on its actor's resources: set them on g.Actor(...)
// RUN: not test -e %t.rcx
// RUN: raycc compile %s --param n=2 -o %t.rcx
// RUN: raycc run %t.rcx | FileCheck %s --check-prefix=RESULT
// RUN: not raycc run %t.rcx --input x=1 2>&1 | FileCheck %s --check-prefix=RUNINPUT
// RESULT: out: 6
// RUNINPUT: raycc run: graph 'g' has no input named 'x'

#include <raycc/graph.h>

#include <stdexcept>
#include <string>

int64_t Inc(int64_t x) { return x + 1; }
std::string Text() { return "text"; }

class Counter {
 public:
  static Counter* Create() { return new Counter; }
  int64_t Add(int64_t x) { return x; }
};
RAYCC_REMOTE(Inc, Text, Counter::Create, &Counter::Add);

RAYCC_GRAPH(g, raycc::GraphBuilder& g, int64_t n) {
  if (n < 0) throw std::invalid_argument("n must not be negative");
  auto x = g.Task(Inc).Call(int64_t{3});
  for (int64_t i = 0; i < n; ++i) x = g.Task(Inc).Call(x);
#ifdef CASE_TYPE
  g.Task(Inc).Call(g.Task(Text).Call());
#endif
#ifdef CASE_ARITY
  g.Task(Inc).Call(x, x);
#endif
#ifdef CASE_OBJECTREF
  g.Task(Inc).Call(raycc::ObjectRef<int64_t>());
#endif
#ifdef CASE_KILL
  auto c = g.Actor(Counter::Create).Call();
  c.Kill();
  c.Task(&Counter::Add).Call(x);
#endif
#ifdef CASE_CONCURRENCY
  g.Actor(Counter::Create).SetMaxConcurrency(0).Call();
#endif
#ifdef CASE_ACTOR_RESOURCES
  g.Actor(Counter::Create).Call().Task(&Counter::Add).SetResources({{"CPU", 1}}).Call(x);
#endif
#ifdef CASE_RESOURCES
  g.Task(Inc).SetResources({{"CPU", -2}}).Call(x);
#endif
#ifdef CASE_INFEASIBLE
  g.Task(Inc).SetResources({{"GPU", 4}}).Call(x);
#endif
  g.Output("out", x);
}
