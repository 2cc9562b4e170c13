// User types with MSGPACK_DEFINE as arguments and results, containers of
// them, and ObjectRefs inside values (passed, returned, resolved later).
#include <ray/api.h>

#include <map>
#include <string>
#include <vector>

#include "check.h"

struct Person {
  std::string name;
  int age = 0;
  std::vector<std::string> tags;
  MSGPACK_DEFINE(name, age, tags);
};

struct Team {
  std::string title;
  std::vector<Person> members;
  std::map<std::string, double> scores;
  MSGPACK_DEFINE(title, members, scores);
};

Person Older(Person p, int years) {
  p.age += years;
  p.tags.push_back("older");
  return p;
}

Team MakeTeam(std::string title, std::vector<Person> members) {
  Team team{std::move(title), std::move(members), {}};
  for (const Person& p : team.members) team.scores[p.name] = p.age / 10.0;
  return team;
}

int TotalAge(Team team) {
  int total = 0;
  for (const Person& p : team.members) total += p.age;
  return total;
}

int Square(int x) { return x * x; }

// Refs inside a value are not resolved: the task gets them, and gets their
// values itself.
int SumOfRefs(std::vector<ray::ObjectRef<int>> refs) {
  int sum = 0;
  for (const auto& ref : refs) sum += *ray::Get(ref);
  return sum;
}

// A task may return refs (to objects it made).
std::vector<ray::ObjectRef<int>> MakeSquares(int n) {
  std::vector<ray::ObjectRef<int>> out;
  for (int i = 1; i <= n; ++i) out.push_back(ray::Task(Square).Remote(i));
  return out;
}

RAY_REMOTE(Older, MakeTeam, TotalAge, Square, SumOfRefs, MakeSquares);

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);

  Person ada{"ada", 36, {"math"}};
  auto put = ray::Put(ada);
  std::shared_ptr<Person> back = ray::Get(put);
  CHECK_EQ(back->name, std::string("ada"));
  CHECK_EQ(back->tags.size(), 1u);

  auto older = ray::Task(Older).Remote(put, 4);
  CHECK_EQ(ray::Get(older)->age, 40);
  CHECK_EQ(ray::Get(older)->tags.back(), std::string("older"));

  std::vector<Person> members{ada, {"alan", 41, {}}, {"grace", 45, {"navy"}}};
  auto team = ray::Task(MakeTeam).Remote(std::string("pioneers"), members);
  CHECK_EQ(ray::Get(team)->members.size(), 3u);
  CHECK_EQ(ray::Get(team)->scores.at("grace"), 4.5);
  CHECK_EQ(*ray::Task(TotalAge).Remote(team).Get(), 122);

  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 1; i <= 10; ++i) refs.push_back(ray::Task(Square).Remote(i));
  CHECK_EQ(*ray::Task(SumOfRefs).Remote(refs).Get(), 385);

  auto squares = ray::Task(MakeSquares).Remote(5);
  std::vector<ray::ObjectRef<int>> inner = *ray::Get(squares);
  CHECK_EQ(inner.size(), 5u);
  CHECK_EQ(*ray::Get(inner[4]), 25);
  CHECK_EQ(*ray::Task(SumOfRefs).Remote(inner).Get(), 55);

  ray::Shutdown();
  std::cout << "user_types: ok" << std::endl;
  return 0;
}
