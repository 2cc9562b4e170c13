// Actors as Ray C++ users write them: state, overloaded factories, names
// and namespaces, handles passed to tasks, kill, restarts, ExitActor and
// concurrency.
#include <ray/api.h>

#include <string>
#include <vector>

#include "check.h"

class Counter {
 public:
  explicit Counter(int init) : count_(init) {}
  static Counter* FactoryCreate() { return new Counter(0); }
  static Counter* FactoryCreate(int init) { return new Counter(init); }
  int Add(int x) {
    count_ += x;
    return count_;
  }
  int Get() const noexcept { return count_; }
  bool Restarted() { return ray::WasCurrentActorRestarted(); }
  int Exit() {
    ray::ExitActor();
    return -1;  // (never reached)
  }

 private:
  int count_;
};

// A task that uses an actor handle it was given.
int AddThrough(ray::ActorHandle<Counter> counter, int x) {
  return *counter.Task(&Counter::Add).Remote(x).Get();
}

std::string Hello() { return "hi"; }

// A task may create an actor and return its handle.
ray::ActorHandle<Counter> MakeCounter(int init) {
  return ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).Remote(init);
}

int Fail() { throw std::runtime_error("no value for you"); }
int Square(int x) { return x * x; }

RAY_REMOTE(RAY_FUNC(Counter::FactoryCreate), RAY_FUNC(Counter::FactoryCreate, int), &Counter::Add,
           &Counter::Get, &Counter::Restarted, &Counter::Exit, AddThrough, Hello, MakeCounter, Fail, Square);

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);

  // State across calls, in submission order.
  ray::ActorHandle<Counter> counter = ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).Remote(10);
  std::vector<ray::ObjectRef<int>> sums;
  for (int i = 1; i <= 10; ++i) sums.push_back(counter.Task(&Counter::Add).Remote(i));
  CHECK_EQ(*sums.back().Get(), 65);
  CHECK_EQ(*counter.Task(&Counter::Get).Remote().Get(), 65);
  auto from_ref = counter.Task(&Counter::Add).SetName("add_ref").Remote(ray::Put(5));
  CHECK_EQ(*from_ref.Get(), 70);
  auto zero = ray::Actor(RAY_FUNC(Counter::FactoryCreate)).Remote();
  CHECK_EQ(*zero.Task(&Counter::Get).Remote().Get(), 0);
  // A constructor argument may be a ref (its value is passed), also one
  // that is not ready yet; a failed one kills the actor, naming why.
  auto from_put = ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).Remote(ray::Put(41));
  CHECK_EQ(*from_put.Task(&Counter::Add).Remote(1).Get(), 42);
  auto from_task = ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).Remote(ray::Task(Square).Remote(3));
  CHECK_EQ(*from_task.Task(&Counter::Get).Remote().Get(), 9);
  auto doomed = ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).Remote(ray::Task(Fail).Remote());
  CHECK_THROWS(ray::internal::RayActorException, doomed.Task(&Counter::Get).Remote().Get(),
               "no value for you");
  // An actor made by a task, its handle returned.
  ray::ActorHandle<Counter> made = *ray::Task(MakeCounter).Remote(5).Get();
  CHECK_EQ(*made.Task(&Counter::Add).Remote(1).Get(), 6);

  // A handle passed to a task: the task calls the same actor.
  CHECK_EQ(*ray::Task(AddThrough).Remote(counter, 30).Get(), 100);
  // Handles can be rebuilt from their ids.
  ray::ActorHandle<Counter> same = ray::ActorHandle<Counter>::FromBytes(counter.ID());
  CHECK_EQ(*same.Task(&Counter::Get).Remote().Get(), 100);

  // Named actors, in the default namespace and in another one.
  auto named = ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).SetName("global_counter").Remote(7);
  named.Task(&Counter::Get).Remote().Get();
  boost::optional<ray::ActorHandle<Counter>> found = ray::GetActor<Counter>("global_counter");
  CHECK(found);
  CHECK_EQ(*(*found).Task(&Counter::Add).Remote(1).Get(), 8);
  CHECK(!ray::GetActor<Counter>("no_such_actor"));
  CHECK(!ray::GetActor<Counter>(""));
  auto spaced = ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).SetName("spaced", "team_a").Remote(3);
  spaced.Task(&Counter::Get).Remote().Get();
  CHECK(!ray::GetActor<Counter>("spaced"));
  CHECK(ray::GetActor<Counter>("spaced", "team_a"));
  CHECK_EQ(*ray::GetActor<Counter>("spaced", "team_a")->Task(&Counter::Get).Remote().Get(), 3);
  CHECK_EQ(ray::GetNamespace(), std::string(""));

  // Kill: later calls throw RayActorException; the name is free again.
  named.Kill();
  CHECK_THROWS(ray::internal::RayActorException, named.Task(&Counter::Get).Remote().Get(), "");
  CHECK(!ray::GetActor<Counter>("global_counter"));

  // Restarts: Kill(false) rebuilds the actor from its constructor's
  // arguments (its state starts over) while restarts are left.
  auto phoenix = ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).SetMaxRestarts(1).Remote(100);
  CHECK_EQ(*phoenix.Task(&Counter::Add).Remote(1).Get(), 101);
  CHECK(!*phoenix.Task(&Counter::Restarted).Remote().Get());
  phoenix.Kill(false);
  CHECK_EQ(*phoenix.Task(&Counter::Add).Remote(1).Get(), 101);
  CHECK(*phoenix.Task(&Counter::Restarted).Remote().Get());
  phoenix.Kill(false);  // no restarts left: dead
  CHECK_THROWS(ray::internal::RayActorException, phoenix.Task(&Counter::Get).Remote().Get(), "");
  CHECK(!ray::WasCurrentActorRestarted());  // (outside of an actor)

  // ExitActor: the actor ends for good, restarts or not; the call that
  // exits and the calls after it throw RayActorException.
  auto leaving = ray::Actor(RAY_FUNC(Counter::FactoryCreate, int)).SetMaxRestarts(5).Remote(1);
  CHECK_EQ(*leaving.Task(&Counter::Add).Remote(1).Get(), 2);
  auto exit = leaving.Task(&Counter::Exit).Remote();
  CHECK_THROWS(ray::internal::RayActorException, exit.Get(), "ExitActor");
  CHECK_THROWS(ray::internal::RayActorException, leaving.Task(&Counter::Get).Remote().Get(), "exited");
  CHECK_THROWS(ray::internal::RayException, ray::ExitActor(), "outside of an actor");

  // Concurrency: a max_concurrency actor takes calls on several threads.
  auto wide = ray::Actor(RAY_FUNC(Counter::FactoryCreate)).SetMaxConcurrency(2).Remote();
  CHECK_EQ(*wide.Task(&Counter::Get).Remote().Get(), 0);

  CHECK_EQ(*ray::Task(Hello).Remote().Get(), std::string("hi"));
  ray::Shutdown();
  std::cout << "actors: ok" << std::endl;
  return 0;
}
