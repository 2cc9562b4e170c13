// What a Ray C++ program catches: task exceptions as RayTaskException (also
// through dependent tasks), unregistered functions, bad options and misuse.
#include <ray/api.h>

#include <stdexcept>
#include <string>

#include "check.h"

int Divide(int a, int b) {
  if (b == 0) throw std::invalid_argument("division by zero");
  return a / b;
}
int Twice(int x) { return 2 * x; }
int NotRegistered(int x) { return x; }
int Flaky(int x) { throw std::logic_error("always fails"); }

// A task that catches its dependency's failure itself.
std::string Guarded(int a) {
  try {
    return std::to_string(*ray::Task(Divide).Remote(a, 0).Get());
  } catch (const ray::internal::RayTaskException& e) {
    return std::string("caught: ") + e.what();
  }
}

RAY_REMOTE(Divide, Twice, Flaky, Guarded);

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);

  auto bad = ray::Task(Divide).Remote(1, 0);
  CHECK_THROWS(ray::internal::RayTaskException, bad.Get(), "division by zero");
  CHECK_THROWS(ray::internal::RayTaskException, ray::Get(bad), "std::invalid_argument");
  // A task whose argument failed fails with the original cause.
  auto dependent = ray::Task(Twice).Remote(bad);
  CHECK_THROWS(ray::internal::RayTaskException, dependent.Get(), "division by zero");
  // Every Ray exception is a RayException (and a std::exception).
  CHECK_THROWS(ray::internal::RayException, ray::Get(dependent), "Divide");
  CHECK_THROWS(std::exception, ray::Get(dependent), "division by zero");
  CHECK_EQ(*ray::Task(Divide).Remote(9, 3).Get(), 3);
  auto guarded = ray::Task(Guarded).Remote(5);
  CHECK(guarded.Get()->find("caught: ") == 0);
  CHECK_THROWS(ray::internal::RayTaskException, ray::Task(Flaky).SetMaxRetries(2).Remote(1).Get(),
               "always fails");

  CHECK_THROWS(ray::internal::RayFunctionNotFound, ray::Task(NotRegistered).Remote(1), "RAY_REMOTE");
  CHECK_THROWS(ray::internal::RayException, ray::Task(Twice).SetResources({{"CPU", 0.0}}).Remote(1),
               "above 0");
  CHECK_THROWS(ray::internal::RayException, ray::Task(Twice).SetResources({{"CPU", 1.5}}).Remote(1),
               "whole number");
  CHECK_THROWS(ray::internal::RayException, ray::Task(Twice).SetResources({{"", 1.0}}).Remote(1), "empty");
  // A request no node can ever hold is refused, naming it.
  CHECK_THROWS(ray::internal::RayException, ray::Task(Twice).SetResources({{"CPU", 4096.0}}).Remote(1).Get(),
               "CPU");
  CHECK_THROWS(ray::internal::RayException, ray::Task(Twice).SetResource("TPU", 1).Remote(1).Get(), "TPU");
  CHECK_THROWS(ray::internal::RayException, ray::Get(ray::ObjectRef<int>()), "");

  // Flags that do not exist, and configs raycc refuses.
  ray::Shutdown();
  char prog[] = "prog", typo[] = "--ray_adress=1.2.3.4:5";
  char* bad_argv[] = {prog, typo};
  ray::RayConfig again;
  CHECK_THROWS(ray::internal::RayException, ray::Init(again, 2, bad_argv), "--ray_adress");
  CHECK(!ray::IsInitialized());
  ray::RayConfig detached;
  detached.default_actor_lifetime = ray::ActorLifetime::DETACHED;
  CHECK_THROWS(ray::internal::RayException, ray::Init(detached), "detached");
  ray::RayConfig bad_head;
  bad_head.local_mode = true;
  bad_head.head_args = {"--num-cpus=many"};
  CHECK_THROWS(ray::internal::RayException, ray::Init(bad_head), "--num-cpus");
  CHECK(!ray::IsInitialized());
  std::cout << "exceptions: ok" << std::endl;
  return 0;
}
