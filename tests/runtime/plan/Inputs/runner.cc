// A graph made to be executed many times by a GraphRunner (plan_test,
// lit tools/raycc/repeat.test): an actor in a placement group, whose
// constructor takes the result of a task that feeds nothing else, a call
// whose result only another actor's constructor reads, tasks before and
// after its creation (one reading across it, one inside a batch), a call
// nothing reads, and a kill.

#include <raycc/graph.h>

#include <atomic>

// (Names apart from the other inputs': every task library loads into plan_test.)
std::atomic<int64_t> start_runs{0};
int64_t StartFrom(int64_t base) {
  ++start_runs;
  return base;
}
// How many times StartFrom ran in this process, read after `after` is made.
int64_t StartRuns(int64_t /*after*/) { return start_runs.load(); }
int64_t Twice(int64_t x) { return 2 * x; }

class Tally {
 public:
  static Tally* Create(int64_t start) { return new Tally{start}; }
  int64_t Add(int64_t x) { return total += x; }
  int64_t total = 0;
};
RAYCC_REMOTE(StartFrom, StartRuns, Twice, Tally::Create, &Tally::Add);

RAYCC_GRAPH(tally, raycc::GraphBuilder& g) {
  auto step = g.Input<int64_t>("step");
  auto twice = g.Task(Twice).Call(step);  // before the actor, read after it
  auto pg = g.PlacementGroup({{{"CPU", 1}}}, raycc::PlacementStrategy::kPack, "tally");
  auto tally = g.Actor(Tally::Create)
                   .SetResources({{"CPU", 1}})
                   .SetPlacementGroup(pg, 0)
                   .Call(g.Task(StartFrom).Call(int64_t{100}));
  // A call whose result only a constructor reads: made once, with the
  // second actor (it adds 1000 to the tally once, not once per execution).
  g.Actor(Tally::Create).Call(tally.Task(&Tally::Add).Call(int64_t{1000}));
  auto four = g.Task(Twice).Call(twice);
  auto eight = g.Task(Twice).Call(four);  // (in four's batch)
  auto total = tally.Task(&Tally::Add).Call(eight);
  g.Output("total", total);
  g.Output("start_runs", g.Task(StartRuns).Call(total));
  tally.Task(&Tally::Add).Call(int64_t{0});  // read by nothing; the kill waits for it
  tally.Kill();
}
