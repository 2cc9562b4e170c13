// Tasks as a Ray C++ user writes them: registration (overloads too), Put
// and Get, vectors of refs, refs as arguments, a chain of refs, void tasks.
#include <ray/api.h>

#include <string>
#include <vector>

#include "check.h"

int Plus(int x, int y) { return x + y; }
int Plus1(int x) noexcept { return x + 1; }
std::string Greet(std::string name) { return "hello " + name; }
int Overloaded(int x) { return x * 10; }
int Overloaded(int x, int y) { return x * y; }
void Nothing(int) {}
std::vector<double> Scale(std::vector<double> v, double by) {
  for (double& x : v) x *= by;
  return v;
}
int Length(std::vector<double> v) { return static_cast<int>(v.size()); }

RAY_REMOTE(Plus, Plus1, Greet, RAY_FUNC(Overloaded, int), RAY_FUNC(Overloaded, int, int), Nothing, Scale,
           Length)  // (no ';' needed, as with Ray's)

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);
  CHECK(ray::IsInitialized());

  // Init again does nothing (as Ray's).
  ray::Init(config, argc, argv);
  CHECK(ray::IsInitialized());

  // Put and Get.
  auto obj = ray::Put(100);
  CHECK_EQ(*ray::Get(obj), 100);
  CHECK_EQ(*obj.Get(), 100);
  // The caller owns what Get returns (as in Ray): changing it changes no
  // other Get.
  auto vec = ray::Put(std::vector<double>{1, 2, 3});
  std::shared_ptr<std::vector<double>> got = ray::Get(vec);
  got->push_back(4);
  CHECK_EQ(ray::Get(vec)->size(), 3u);

  // Tasks, named and with resources.
  auto r = ray::Task(Plus).Remote(1, 2);
  CHECK_EQ(*ray::Get(r), 3);
  auto named = ray::Task(Plus).SetName("named_plus").SetResources({{"CPU", 1.0}}).Remote(2, 3);
  CHECK_EQ(*named.Get(), 5);
  auto one = ray::Task(Plus).SetResource("CPU", 1.0).Remote(4, 5);
  CHECK_EQ(*one.Get(), 9);
  CHECK_EQ(*ray::Task(Greet).Remote(std::string("ray")).Get(), std::string("hello ray"));

  // Overloads picked with RAY_FUNC.
  CHECK_EQ(*ray::Task(RAY_FUNC(Overloaded, int)).Remote(4).Get(), 40);
  CHECK_EQ(*ray::Task(RAY_FUNC(Overloaded, int, int)).Remote(4, 5).Get(), 20);

  // A void task: its ref's Get waits and checks.
  ray::ObjectRef<void> done = ray::Task(Nothing).Remote(1);
  done.Get();

  // Refs as arguments: resolved to their values before the call.
  auto r2 = ray::Task(Plus).Remote(r, 10);
  CHECK_EQ(*ray::Get(r2), 13);
  auto r3 = ray::Task(Plus).Remote(obj, r2);
  CHECK_EQ(*r3.Get(), 113);
  auto scaled = ray::Task(Scale).Remote(vec, 2.0);
  CHECK_EQ((*ray::Get(scaled))[2], 6.0);
  CHECK_EQ(*ray::Task(Length).Remote(scaled).Get(), 3);

  // A chain of 200 refs, each task taking the previous one's result.
  ray::ObjectRef<int> chain = ray::Put(0);
  for (int i = 0; i < 200; ++i) chain = ray::Task(Plus1).Remote(chain);
  CHECK_EQ(*chain.Get(), 200);

  // A vector of refs, got at once (and with a timeout), and by id.
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < 50; ++i) refs.push_back(ray::Task(Plus).Remote(i, i));
  std::vector<std::shared_ptr<int>> values = ray::Get(refs);
  CHECK_EQ(values.size(), 50u);
  for (int i = 0; i < 50; ++i) CHECK_EQ(*values[i], 2 * i);
  CHECK_EQ(*ray::Get(refs, 60000)[49], 98);
  std::vector<std::string> ids;
  for (const auto& ref : refs) ids.push_back(ref.ID());
  CHECK_EQ(*ray::Get<int>(ids)[7], 14);
  ray::ObjectRef<int> again(refs[3].ID());
  CHECK(again == refs[3]);
  CHECK_EQ(*again.Get(), 6);

  ray::Shutdown();
  CHECK(!ray::IsInitialized());
  std::cout << "tasks: ok" << std::endl;
  return 0;
}
