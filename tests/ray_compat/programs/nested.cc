// Tasks that submit tasks and call actors at run time (Ray's nested tasks).
#include <ray/api.h>

#include <vector>

#include "check.h"

int Fib(int n) {
  if (n < 2) return n;
  auto a = ray::Task(Fib).Remote(n - 1);
  auto b = ray::Task(Fib).Remote(n - 2);
  return *a.Get() + *b.Get();
}

int Leaf(int i) { return i; }

// Fans out `width` leaves and sums them.
long FanOut(int width) {
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < width; ++i) refs.push_back(ray::Task(Leaf).Remote(i));
  long sum = 0;
  for (const auto& value : ray::Get(refs)) sum += *value;
  return sum;
}

long Tree(int branches, int width) {
  std::vector<ray::ObjectRef<long>> refs;
  for (int i = 0; i < branches; ++i) refs.push_back(ray::Task(FanOut).Remote(width));
  long sum = 0;
  for (const auto& ref : refs) sum += *ref.Get();
  return sum;
}

class Accumulator {
 public:
  static Accumulator* Create() { return new Accumulator(); }
  long Add(long x) { return total_ += x; }

 private:
  long total_ = 0;
};

// A task that creates an actor, feeds it from tasks, and returns the total.
long Pipeline(int n) {
  auto acc = ray::Actor(Accumulator::Create).Remote();
  ray::ObjectRef<long> last;
  for (int i = 1; i <= n; ++i) last = acc.Task(&Accumulator::Add).Remote(ray::Task(FanOut).Remote(i));
  return *last.Get();
}

RAY_REMOTE(Fib, Leaf, FanOut, Tree, Accumulator::Create, &Accumulator::Add, Pipeline);

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);
  CHECK_EQ(*ray::Task(Fib).Remote(10).Get(), 55);
  CHECK_EQ(*ray::Task(Tree).Remote(5, 20).Get(), 5L * 190);
  // sum over i = 1..8 of (0 + ... + i-1)
  CHECK_EQ(*ray::Task(Pipeline).Remote(8).Get(), 84L);
  ray::Shutdown();
  std::cout << "nested: ok" << std::endl;
  return 0;
}
