// Placement groups as Ray C++ users use them: create, wait, look up by name
// and id, run tasks and actors in bundles, remove.
#include <ray/api.h>

#include <string>
#include <vector>

#include "check.h"

int Work(int x) { return x * 3; }

class Holder {
 public:
  static Holder* Create(int v) { return new Holder(v); }
  explicit Holder(int v) : v_(v) {}
  int Value() { return v_; }

 private:
  int v_;
};

RAY_REMOTE(Work, Holder::Create, &Holder::Value);

int main(int argc, char** argv) {
  ray::RayConfig config;
  config.head_args = {"--num-cpus=4"};
  ray::Init(config, argc, argv);

  ray::PlacementGroupCreationOptions options{
      "pg_compat", {{{"CPU", 1}}, {{"CPU", 1}}}, ray::PlacementStrategy::PACK};
  ray::PlacementGroup pg = ray::CreatePlacementGroup(options);
  CHECK(!pg.Empty());
  CHECK(pg.Wait(60));
  CHECK_EQ(pg.GetName(), std::string("pg_compat"));
  CHECK_EQ(pg.GetBundles().size(), 2u);
  CHECK(pg.GetStrategy() == ray::PlacementStrategy::PACK);

  ray::PlacementGroup by_name = ray::GetPlacementGroup("pg_compat");
  CHECK_EQ(by_name.GetID(), pg.GetID());
  CHECK(by_name.GetState() == ray::PlacementGroupState::CREATED);
  CHECK_EQ(by_name.GetBundles()[1].at("CPU"), 1.0);
  ray::PlacementGroup by_id = ray::GetPlacementGroupById(pg.GetID());
  CHECK_EQ(by_id.GetName(), std::string("pg_compat"));
  CHECK(ray::GetPlacementGroup("no_such_group").Empty());
  bool listed = false;
  for (ray::PlacementGroup& group : ray::GetAllPlacementGroups())
    listed = listed || group.GetID() == pg.GetID();
  CHECK(listed);
  // A name in use is refused.
  CHECK_THROWS(ray::internal::RayException, ray::CreatePlacementGroup(options), "pg_compat");

  // Tasks and actors in its bundles.
  CHECK_EQ(*ray::Task(Work).SetPlacementGroup(pg, 0).Remote(5).Get(), 15);
  CHECK_EQ(*ray::Task(Work).SetPlacementGroup(pg, 1).Remote(6).Get(), 18);
  auto holder = ray::Actor(Holder::Create).SetResources({{"CPU", 1}}).SetPlacementGroup(pg, 1).Remote(9);
  CHECK_EQ(*holder.Task(&Holder::Value).Remote().Get(), 9);
  CHECK_THROWS(ray::internal::RayException, ray::Task(Work).SetPlacementGroup(pg, 2).Remote(1),
               "out of range");
  CHECK_THROWS(ray::internal::RayException,
               ray::Task(Work).SetPlacementGroup(ray::PlacementGroup(), 0).Remote(1), "empty");

  // Bad requests.
  CHECK_THROWS(ray::internal::RayException,
               ray::CreatePlacementGroup({"empty", {}, ray::PlacementStrategy::PACK}), "no bundles");
  CHECK_THROWS(ray::internal::RayException,
               ray::CreatePlacementGroup({"zero", {{{"CPU", 0}}}, ray::PlacementStrategy::SPREAD}),
               "above 0");

  holder.Kill();
  ray::RemovePlacementGroup(pg.GetID());
  CHECK(ray::GetPlacementGroupById(pg.GetID()).GetState() == ray::PlacementGroupState::REMOVED);
  // The name is free again once removed.
  ray::PlacementGroup second = ray::CreatePlacementGroup(options);
  CHECK(second.Wait(60));
  CHECK_EQ(ray::GetPlacementGroup("pg_compat").GetID(), second.GetID());
  ray::RemovePlacementGroup(second.GetID());

  ray::Shutdown();
  std::cout << "placement_groups: ok" << std::endl;
  return 0;
}
