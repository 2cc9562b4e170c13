#include "raycc/runtime/api/remote_registry.h"

#include <cstdint>
#include <string>
#include <vector>

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

template <typename T, typename V>
T ViaMsgpack(V v) {  // the general path, for comparison
  std::string bytes = Serialize(v);
  msgpack::object_handle h = msgpack::unpack(bytes.data(), bytes.size());
  return h.get().as<T>();
}

TEST(SerializationTest, ScalarsReadInPlaceAgreeWithMsgpack) {
  // Every msgpack integer width and sign, floats, bools: the fast path gives
  // what msgpack gives, and refuses (so the general path throws) what
  // msgpack refuses.
  std::vector<int64_t> ints = {0,      1,      127,          128,          255,       256,      65535,
                               65536,  -1,     -31,          -32,          -33,       -128,     -129,
                               -32768, -32769, 4294967295LL, 4294967296LL, INT64_MAX, INT64_MIN};
  for (int64_t v : ints) {
    EXPECT_EQ(Deserialize<int64_t>(Serialize(v)), v) << v;
    EXPECT_EQ(Deserialize<double>(Serialize(v)), ViaMsgpack<double>(v)) << v;
    if (v >= INT32_MIN && v <= INT32_MAX) {
      EXPECT_EQ(Deserialize<int>(Serialize(v)), static_cast<int>(v)) << v;
    } else {
      EXPECT_THROW(Deserialize<int>(Serialize(v)), RayccError) << v;
    }
    if (v < 0) {
      EXPECT_THROW(Deserialize<uint32_t>(Serialize(v)), RayccError) << v;
    }
  }
  EXPECT_EQ(Deserialize<uint64_t>(Serialize(UINT64_MAX)), UINT64_MAX);
  EXPECT_THROW(Deserialize<int64_t>(Serialize(UINT64_MAX)), RayccError);
  for (double v : {0.0, -0.5, 1e300, 3.25}) EXPECT_EQ(Deserialize<double>(Serialize(v)), v);
  EXPECT_EQ(Deserialize<float>(Serialize(1.5f)), 1.5f);
  EXPECT_EQ(Deserialize<double>(Serialize(1.5f)), 1.5);
  EXPECT_TRUE(Deserialize<bool>(Serialize(true)));
  EXPECT_FALSE(Deserialize<bool>(Serialize(false)));
  EXPECT_THROW(Deserialize<bool>(Serialize(1)), RayccError);
  EXPECT_THROW(Deserialize<int>(Serialize(true)), RayccError);
  EXPECT_THROW(Deserialize<int>(Serialize(2.5)), RayccError);
  EXPECT_THROW(Deserialize<int>(Serialize(std::string("7"))), RayccError);
  EXPECT_THROW(Deserialize<int>(std::string_view()), RayccError);
  EXPECT_THROW(Deserialize<int>(std::string("\xcd\x01", 2)), RayccError);  // truncated uint16
}

}  // namespace
}  // namespace raycc::internal
