#include "raycc/runtime/api/remote_registry.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/runtime/api/errors.h"

namespace raycc::internal {
namespace {

using ::testing::ElementsAre;

TEST(RemoteRegistryTest, SplitsNamesAtTopLevelCommasAndDropsAmpersands) {
  EXPECT_THAT(SplitRemoteNames("Plus, Counter::Create,  &Counter::Add"),
              ElementsAre("Plus", "Counter::Create", "Counter::Add"));
  EXPECT_THAT(SplitRemoteNames("Sum<int, 3>, &C::M"), ElementsAre("Sum<int, 3>", "C::M"));
}

// An overload picked by a macro (Ray's RAY_FUNC) is named by the function
// and its parameter types, so that overloads get distinct names.
TEST(RemoteRegistryTest, AnOverloadPickedByAMacroIsNamedWithItsParameterTypes) {
  EXPECT_THAT(SplitRemoteNames(
                  "RAY_FUNC(C::Create), RAY_FUNC(C::Create, int), RAY_FUNC(&C::Add, std::map<int, int>)"),
              ElementsAre("C::Create()", "C::Create(int)", "C::Add(std::map<int, int>)"));
  // Only an upper-case macro name counts: a call spelled in the list is not
  // one.
  EXPECT_THAT(SplitRemoteNames("make(x, y)"), ElementsAre("make(x, y)"));
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

namespace one {
int Work(int x) { return x + 1; }
}  // namespace one
namespace two {
int Work(int x) { return x + 2; }
long Other(int x) { return x; }
}  // namespace two

struct Box {
  int Get(int x) { return x; }
  std::string Name() { return "box"; }
};

TEST(RemoteRegistryTest, TwoFunctionsUnderOneNameAreAnErrorNamingBoth) {
  RegisterRemote("SameSignature", &one::Work);
  RegisterRemote("SameSignature", &two::Work);
  try {
    RemoteRegistry::Instance().FunctionByName("SameSignature");
    FAIL() << "an ambiguous name resolved";
  } catch (const RayccError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("two different functions are registered as 'SameSignature'"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("int(int)"));
  }
  RegisterRemote("TwoSignatures", &one::Work);
  RegisterRemote("TwoSignatures", &two::Other);
  try {
    RemoteRegistry::Instance().FunctionByName("TwoSignatures");
    FAIL() << "an ambiguous name resolved";
  } catch (const RayccError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("'TwoSignatures': int(int) and long(int)"));
  }
  // By address (the dynamic API) each runs itself, never the other.
  const RemoteFunction* a = RemoteRegistry::Instance().FunctionByKey(KeyOf(&one::Work));
  const RemoteFunction* b = RemoteRegistry::Instance().FunctionByKey(KeyOf(&two::Work));
  ASSERT_TRUE(a != nullptr && b != nullptr);
  std::string three = Serialize(3);
  EXPECT_EQ(Deserialize<int>(a->invoke({three})), 4);
  EXPECT_EQ(Deserialize<int>(b->invoke({three})), 5);
}

TEST(RemoteRegistryTest, TheSameFunctionTwiceIsHarmless) {
  RegisterRemote("Twice", &Twice);
  EXPECT_EQ(RemoteRegistry::Instance().FunctionByName("Twice"),
            RemoteRegistry::Instance().FunctionByKey(KeyOf(&Twice)));
}

TEST(RemoteRegistryTest, SignaturesAndFingerprints) {
  const RemoteFunction* twice = RemoteRegistry::Instance().FunctionByName("Twice");
  ASSERT_NE(twice, nullptr);
  EXPECT_EQ(twice->signature, "int(int)");
  EXPECT_EQ(twice->fingerprint, Fingerprint("int(int)"));
  EXPECT_NE(Fingerprint("int(int)"), Fingerprint("long(int)"));
  EXPECT_EQ(RemoteRegistry::Instance().FunctionByName("Twice", "int(int)"), twice);
  EXPECT_EQ(RemoteRegistry::Instance().FunctionByName("Twice", ""), twice);  // not checked
  try {
    RemoteRegistry::Instance().FunctionByName("Twice", "int(std::string)");
    FAIL() << "a signature mismatch was accepted";
  } catch (const RayccError& e) {
    EXPECT_THAT(e.what(),
                ::testing::HasSubstr(
                    "function 'Twice' is registered as int(int), but int(std::string) was asked for"));
  }
  RegisterRemote("Box::Get", &Box::Get);
  const RemoteMethod* get = RemoteRegistry::Instance().MethodByName("Box::Get");
  ASSERT_NE(get, nullptr);
  EXPECT_THAT(get->signature, ::testing::EndsWith("(raycc::internal::(anonymous namespace)::Box&, int)"));
  RegisterRemote("Box::Get", &Box::Name);  // another method, another signature
  EXPECT_THROW(RemoteRegistry::Instance().MethodByName("Box::Get"), RayccError);
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
