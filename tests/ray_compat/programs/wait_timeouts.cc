// ray::Wait and Get with timeouts: ready and unready lists in order, a
// timeout that passes, and what misuse throws.
#include <ray/api.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "check.h"

// Blocks until the gate actor says go (no sleeps: the test decides).
class Gate {
 public:
  static Gate* Create() { return new Gate(); }
  bool Open() {
    open_ = true;
    return true;
  }
  bool IsOpen() { return open_; }

 private:
  bool open_ = false;
};

int Quick(int x) { return x; }

int WaitForGate(ray::ActorHandle<Gate> gate, int x) {
  while (!*gate.Task(&Gate::IsOpen).Remote().Get()) std::this_thread::yield();
  return x;
}

RAY_REMOTE(Gate::Create, &Gate::Open, &Gate::IsOpen, Quick, WaitForGate);

int main(int argc, char** argv) {
  ray::RayConfig config;
  config.head_args = {"--num-cpus=4"};
  ray::Init(config, argc, argv);

  auto gate = ray::Actor(Gate::Create).SetMaxConcurrency(4).Remote();
  std::vector<ray::ObjectRef<int>> refs;
  refs.push_back(ray::Task(Quick).Remote(1));
  refs.push_back(ray::Task(WaitForGate).Remote(gate, 2));
  refs.push_back(ray::Task(Quick).Remote(3));
  CHECK_EQ(*refs[0].Get(), 1);
  CHECK_EQ(*refs[2].Get(), 3);

  // Two of three are ready; the gated one is not until the gate opens.
  ray::WaitResult<int> two = ray::Wait(refs, 2, 60000);
  CHECK_EQ(two.ready.size(), 2u);
  CHECK_EQ(two.unready.size(), 1u);
  CHECK(two.unready.front() == refs[1]);
  ray::WaitResult<int> three = ray::Wait(refs, 3, 50);
  CHECK_EQ(three.ready.size(), 2u);
  CHECK_EQ(three.unready.size(), 1u);
  CHECK_THROWS(ray::internal::RayTimeoutException, ray::Get(refs[1], 50), "");
  CHECK_THROWS(ray::internal::RayTimeoutException, refs[1].Get(10), "");
  CHECK_THROWS(ray::internal::RayTimeoutException, ray::Get(refs, 10), "");
  // Timeouts are also Ray's base exception.
  CHECK_THROWS(ray::internal::RayException, ray::Get(refs[1], 0), "");

  gate.Task(&Gate::Open).Remote().Get();
  ray::WaitResult<int> all = ray::Wait(refs, 3, -1);
  CHECK_EQ(all.ready.size(), 3u);
  CHECK(all.unready.empty());
  // The ready list keeps the order of the refs.
  std::vector<int> order;
  for (const auto& ref : all.ready) order.push_back(*ref.Get());
  CHECK(order == std::vector<int>({1, 2, 3}));

  CHECK_THROWS(ray::internal::RayException, ray::Wait(refs, 4, 10), "num_objects");
  ray::WaitResult<int> none = ray::Wait(std::vector<ray::ObjectRef<int>>{}, 0, 10);
  CHECK(none.ready.empty() && none.unready.empty());

  ray::Shutdown();
  std::cout << "wait_timeouts: ok" << std::endl;
  return 0;
}
