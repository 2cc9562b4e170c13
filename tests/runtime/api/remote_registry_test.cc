#include "raycc/runtime/api/remote_registry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raycc::internal {
namespace {

using ::testing::ElementsAre;

TEST(RemoteRegistryTest, SplitsNamesAtTopLevelCommasAndDropsAmpersands) {
  EXPECT_THAT(SplitRemoteNames("Plus, Counter::Create,  &Counter::Add"),
              ElementsAre("Plus", "Counter::Create", "Counter::Add"));
  EXPECT_THAT(SplitRemoteNames("Sum<int, 3>, &C::M"), ElementsAre("Sum<int, 3>", "C::M"));
}

int Twice(int x) { return 2 * x; }
RAYCC_REMOTE(Twice);

TEST(RemoteRegistryTest, FindsByNameAndByAddressAndInvokesOnBytes) {
  const RemoteFunction* by_name = RemoteRegistry::Instance().FunctionByName("Twice");
  ASSERT_NE(by_name, nullptr);
  EXPECT_EQ(by_name, RemoteRegistry::Instance().FunctionByKey(KeyOf(&Twice)));
  EXPECT_EQ(by_name->arity, 1u);
  std::string arg = Serialize(21);
  EXPECT_EQ(Deserialize<int>(by_name->invoke({arg})), 42);
  EXPECT_EQ(RemoteRegistry::Instance().FunctionByName("Nope"), nullptr);
}

TEST(RemoteRegistryTest, BadBytesAreARayccError) {
  const RemoteFunction* fn = RemoteRegistry::Instance().FunctionByName("Twice");
  std::string not_an_int = Serialize(std::string("x"));
  EXPECT_THROW(fn->invoke({not_an_int}), RayccError);
}

TEST(RemoteRegistryTest, TakesAValueOfTheParameterTypeWithoutBytes) {
  const RemoteFunction* fn = RemoteRegistry::Instance().FunctionByName("Twice");
  ASSERT_EQ(fn->arg_types.size(), 1u);
  EXPECT_EQ(*fn->arg_types[0], typeid(int));
  int forty = 40;
  EXPECT_EQ(Deserialize<int>(fn->invoke({ArgView(static_cast<const void*>(&forty))})), 80);
  TypedValue typed = fn->invoke_value({ArgView(static_cast<const void*>(&forty))});
  EXPECT_EQ(*typed.type, typeid(int));
  EXPECT_EQ(*static_cast<const int*>(typed.value.get()), 80);
}

}  // namespace
}  // namespace raycc::internal
