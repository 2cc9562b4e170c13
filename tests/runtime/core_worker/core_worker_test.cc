// The core worker's MemoryStore (pending, ready, errors, waits with
// deadlines, ready callbacks), ReferenceCounter (frees on the last handle
// and the last task use) and TaskExecutor (registered name, signature
// check, arity, user exceptions) as units.

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core_worker/memory_store.h"
#include "core_worker/reference_counter.h"
#include "core_worker/task_executor.h"
#include "gtest/gtest.h"
#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/api/serialization.h"

namespace {

using raycc::core_worker::MemoryStore;
using raycc::core_worker::ObjectError;
using raycc::core_worker::ObjectValue;

int Square(int x) { return x * x; }
int Throws(int) { throw std::out_of_range("index 7"); }
std::vector<int> Squares(int n) {
  std::vector<int> out;
  for (int i = 1; i <= n; ++i) out.push_back(i * i);
  return out;
}
std::vector<int> ThrowsToo(int) { throw std::out_of_range("index 8"); }
RAYCC_REMOTE(Square, Throws, Squares, ThrowsToo);

raycc::ObjectId Id(uint32_t i) {
  static raycc::TaskId task = raycc::TaskId::Of(raycc::JobId::FromInt(1));
  return *raycc::ObjectId::ForReturn(task, i);
}

TEST(MemoryStoreTest, PendingObjectsBecomeReadyForWaitersAndCallbacks) {
  MemoryStore store;
  store.AddPending(Id(1));
  bool unknown = true;
  auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  EXPECT_FALSE(store.Get(Id(1), soon, &unknown).has_value());
  EXPECT_FALSE(unknown);
  std::string seen;
  store.OnReady(Id(1), [&](const ObjectValue& v) { seen = *v.bytes; });
  std::thread writer([&] {
    store.Put(Id(1), ObjectValue{std::make_shared<const std::string>("abc"), nullptr});
  });
  std::optional<ObjectValue> got = store.Get(Id(1), std::nullopt, &unknown);
  writer.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got->bytes, "abc");
  EXPECT_EQ(seen, "abc");
  // A second Put (a retried task's late reply) changes nothing.
  store.Put(Id(1), ObjectValue{std::make_shared<const std::string>("zzz"), nullptr});
  EXPECT_EQ(*store.Get(Id(1), std::nullopt, &unknown)->bytes, "abc");
}

TEST(MemoryStoreTest, UnknownObjectsFailAtOnceAndWaitCountsReadyOnes) {
  MemoryStore store;
  bool unknown = false;
  EXPECT_FALSE(store.Get(Id(9), std::nullopt, &unknown).has_value());
  EXPECT_TRUE(unknown);
  std::shared_ptr<const ObjectError> error;
  store.OnReady(Id(9), [&](const ObjectValue& v) { error = v.error; });
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->message.find("not known"), std::string::npos);

  store.AddPending(Id(1));
  store.AddPending(Id(2));
  store.Put(Id(2), ObjectValue{nullptr, std::make_shared<const ObjectError>()});
  auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  std::vector<bool> ready = store.Wait({Id(1), Id(2), Id(9)}, 2, soon);
  EXPECT_EQ(ready, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(store.Wait({Id(1), Id(2)}, 1, std::nullopt), (std::vector<bool>{false, true}));
  store.Delete(Id(2));
  EXPECT_FALSE(store.Contains(Id(2)));
  EXPECT_EQ(store.size(), 1u);
}

raycc::proto::TaskSpec Task(const std::string& name, std::vector<std::string> args,
                            std::string signature = "") {
  raycc::proto::TaskSpec task;
  task.set_task_id(raycc::TaskId::Of(raycc::JobId::FromInt(1)).Binary());
  task.mutable_function()->set_name(name);
  task.mutable_function()->set_signature(signature);
  for (std::string& a : args) task.add_args()->set_value(std::move(a));
  return task;
}

TEST(TaskExecutorTest, RunsTheRegisteredFunction) {
  raycc::proto::PushTaskReply reply;
  raycc::core_worker::ExecuteTask(Task("Square", {raycc::Serialize(7)}), &reply);
  ASSERT_FALSE(reply.has_error()) << reply.error().message();
  ASSERT_EQ(reply.return_objects_size(), 1);
  EXPECT_EQ(raycc::Deserialize<int>(reply.return_objects(0).data()), 49);
}

TEST(TaskExecutorTest, FailuresBecomeErrorsNamingTheCause) {
  raycc::proto::PushTaskReply missing;
  raycc::core_worker::ExecuteTask(Task("NoSuchFunction", {}), &missing);
  EXPECT_NE(missing.error().message().find("NoSuchFunction"), std::string::npos);

  raycc::proto::PushTaskReply arity;
  raycc::core_worker::ExecuteTask(Task("Square", {}), &arity);
  EXPECT_NE(arity.error().message().find("takes 1 arguments"), std::string::npos) << arity.error().message();

  raycc::proto::PushTaskReply stale;
  raycc::core_worker::ExecuteTask(Task("Square", {raycc::Serialize(1)}, "double(double)"), &stale);
  EXPECT_NE(stale.error().message().find("double(double)"), std::string::npos) << stale.error().message();

  raycc::proto::PushTaskReply raised;
  raycc::core_worker::ExecuteTask(Task("Throws", {raycc::Serialize(1)}), &raised);
  EXPECT_EQ(raised.error().exception_type(), "std::out_of_range");
  EXPECT_EQ(raised.error().message(), "index 7");
  EXPECT_EQ(raised.error().function_name(), "Throws");
  EXPECT_EQ(raised.return_objects_size(), 0);
}

// A worker runs what a driver's compiled plan names though it never runs a
// plan itself: the plan's builtins (registered when the runtime loads) and
// its gated variants of the program's functions ("f+after": one more
// argument, a control dependency, ignored).
TEST(TaskExecutorTest, APlansBuiltinsAndGatedFunctionsRunInAnyProcess) {
  raycc::proto::PushTaskReply join;
  raycc::core_worker::ExecuteTask(Task("raycc.join", {}), &join);
  EXPECT_FALSE(join.has_error()) << join.error().message();
  // Builtins take any number of arguments (raycc.finish_run's count
  // depends on the plan; it failed on every cluster run before).
  raycc::proto::PushTaskReply joined;
  raycc::core_worker::ExecuteTask(Task("raycc.join", {raycc::Serialize(1), raycc::Serialize(2)}), &joined);
  EXPECT_FALSE(joined.has_error()) << joined.error().message();
  raycc::proto::PushTaskReply gated;
  raycc::core_worker::ExecuteTask(Task("Square+after", {raycc::Serialize(6), raycc::Serialize(0)}), &gated);
  ASSERT_FALSE(gated.has_error()) << gated.error().message();
  ASSERT_EQ(gated.return_objects_size(), 1);
  EXPECT_EQ(raycc::Deserialize<int>(gated.return_objects(0).data()), 36);
  raycc::proto::PushTaskReply unknown;
  raycc::core_worker::ExecuteTask(Task("NoSuchFunction+after", {}), &unknown);
  EXPECT_NE(unknown.error().message().find("NoSuchFunction+after"), std::string::npos);
}

// A result writer is offered the value before it is serialized: when it
// takes it, the reply says where (in_plasma) and carries no bytes; when it
// declines, the bytes are in the reply as usual; what it throws (a
// serializer's error) is the task's error. Small results are not offered.
TEST(TaskExecutorTest, AResultWriterIsOfferedTheValueFirst) {
  std::vector<std::string> offered;
  raycc::core_worker::ResultWriter takes = [&](const raycc::ObjectId& id,
                                               const raycc::internal::TypedValue& value) {
    offered.push_back(id.Hex());
    // (What a store writer does: measure, then write into room of that size.)
    std::string room(value.size_of(value.value.get()), '\0');
    EXPECT_TRUE(value.write_into(value.value.get(), room.data(), room.size()));
    EXPECT_EQ(raycc::Deserialize<std::vector<int>>(room), (std::vector<int>{1, 4, 9}));
    return true;
  };
  raycc::proto::TaskSpec task = Task("Squares", {raycc::Serialize(3)});
  raycc::proto::PushTaskReply reply;
  raycc::core_worker::ExecuteTask(task, &reply, {}, takes);
  ASSERT_FALSE(reply.has_error()) << reply.error().message();
  ASSERT_EQ(reply.return_objects_size(), 1);
  EXPECT_TRUE(reply.return_objects(0).in_plasma());
  EXPECT_TRUE(reply.return_objects(0).data().empty());
  const raycc::ObjectId result = *raycc::ObjectId::ForReturn(*raycc::TaskId::FromBinary(task.task_id()), 1);
  ASSERT_EQ(offered.size(), 1u);
  EXPECT_EQ(offered[0], result.Hex());
  EXPECT_EQ(reply.return_objects(0).object_id(), result.Binary());

  raycc::proto::PushTaskReply declined;
  raycc::core_worker::ExecuteTask(
      task, &declined, {}, [](const raycc::ObjectId&, const raycc::internal::TypedValue&) { return false; });
  ASSERT_EQ(declined.return_objects_size(), 1);
  EXPECT_FALSE(declined.return_objects(0).in_plasma());
  EXPECT_EQ(raycc::Deserialize<std::vector<int>>(declined.return_objects(0).data()),
            (std::vector<int>{1, 4, 9}));

  raycc::proto::PushTaskReply failed;
  raycc::core_worker::ExecuteTask(task, &failed, {},
                                  [](const raycc::ObjectId&, const raycc::internal::TypedValue&) -> bool {
                                    throw std::length_error("no room for it");
                                  });
  EXPECT_EQ(failed.error().exception_type(), "std::length_error");
  EXPECT_EQ(failed.error().message(), "no room for it");
  EXPECT_EQ(failed.return_objects_size(), 0);
  // A function's own exception is still its error, and no result is offered.
  offered.clear();
  raycc::proto::PushTaskReply raised;
  raycc::core_worker::ExecuteTask(Task("ThrowsToo", {raycc::Serialize(1)}), &raised, {}, takes);
  EXPECT_EQ(raised.error().exception_type(), "std::out_of_range");
  EXPECT_TRUE(offered.empty());
  // A result of a few bytes whatever its value (a number) is never offered:
  // it goes into the reply at once.
  raycc::proto::PushTaskReply scalar;
  raycc::core_worker::ExecuteTask(Task("Square", {raycc::Serialize(7)}), &scalar, {}, takes);
  EXPECT_TRUE(offered.empty());
  ASSERT_EQ(scalar.return_objects_size(), 1);
  EXPECT_EQ(raycc::Deserialize<int>(scalar.return_objects(0).data()), 49);
}

TEST(ReferenceCounterTest, FreesOnTheLastHandleAndTheLastTaskUse) {
  std::vector<raycc::ObjectId> freed;
  raycc::core_worker::ReferenceCounter refs(
      [&](const raycc::ObjectId& id, const std::string&) { freed.push_back(id); });
  refs.AddOwned(Id(1), 1);
  refs.AddLocalRef(Id(1));  // a copy of the handle
  refs.AddTaskUse(Id(1));   // a task takes it as an argument
  refs.RemoveLocalRef(Id(1));
  refs.RemoveLocalRef(Id(1));
  EXPECT_TRUE(freed.empty());  // the task still needs it
  EXPECT_TRUE(refs.Owns(Id(1)));
  refs.RemoveTaskUse(Id(1));
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ(freed[0], Id(1));
  EXPECT_FALSE(refs.Owns(Id(1)));
  refs.RemoveLocalRef(Id(1));  // a late drop of a freed object is ignored
  EXPECT_EQ(freed.size(), 1u);
}

TEST(ReferenceCounterTest, ABatchResultStaysUntilReferencedOrReleasedByItsConsumers) {
  std::vector<raycc::ObjectId> freed;
  raycc::core_worker::ReferenceCounter refs(
      [&](const raycc::ObjectId& id, const std::string&) { freed.push_back(id); });
  refs.AddOwned(Id(2), 0);  // nobody refers to it yet
  refs.AddTaskUse(Id(2));
  refs.RemoveTaskUse(Id(2));
  EXPECT_TRUE(freed.empty());
  refs.AddLocalRef(Id(2));
  refs.RemoveLocalRef(Id(2));
  EXPECT_EQ(freed, std::vector<raycc::ObjectId>{Id(2)});

  refs.AddOwned(Id(3), 0, /*release_when_unused=*/true);
  refs.AddTaskUse(Id(3));
  refs.RemoveTaskUse(Id(3));
  EXPECT_EQ(freed.size(), 2u);
  EXPECT_EQ(refs.size(), 0u);
}

TEST(ReferenceCounterTest, AnOwnedObjectStaysWhileAnotherProcessBorrowsIt) {
  std::vector<raycc::ObjectId> freed;
  raycc::core_worker::ReferenceCounter refs([&](const raycc::ObjectId& id, const std::string& owner) {
    EXPECT_EQ(owner, "") << "ours";
    freed.push_back(id);
  });
  refs.AddOwned(Id(4), 1);
  EXPECT_TRUE(refs.AddBorrower(Id(4), "w1"));
  EXPECT_TRUE(refs.AddBorrower(Id(4), "w2"));
  EXPECT_TRUE(refs.AddBorrower(Id(4), "w2"));  // (a set: twice is once)
  EXPECT_EQ(refs.borrowers(Id(4)), 2u);
  refs.RemoveLocalRef(Id(4));
  EXPECT_TRUE(freed.empty()) << "borrowed still";
  refs.RemoveBorrower(Id(4), "w1");
  refs.RemoveBorrower(Id(4), "nobody");  // (ignored)
  EXPECT_TRUE(freed.empty());
  refs.RemoveBorrower(Id(4), "w2");
  EXPECT_EQ(freed, std::vector<raycc::ObjectId>{Id(4)});
  EXPECT_FALSE(refs.AddBorrower(Id(4), "late")) << "freed: a late borrower is refused";

  // A borrower that dies takes its borrows with it.
  refs.AddOwned(Id(5), 1);
  refs.AddOwned(Id(6), 1);
  refs.AddBorrower(Id(5), "dead");
  refs.AddBorrower(Id(6), "dead");
  refs.RemoveLocalRef(Id(5));
  refs.RemoveBorrowerEverywhere("dead");
  EXPECT_EQ(freed.size(), 2u);
  EXPECT_TRUE(refs.Owns(Id(6))) << "still referenced here";
}

TEST(ReferenceCounterTest, ABorrowedReferenceGoesWithItsLastHandleOrPinAndNamesItsOwner) {
  std::vector<std::pair<raycc::ObjectId, std::string>> freed;
  raycc::core_worker::ReferenceCounter refs(
      [&](const raycc::ObjectId& id, const std::string& owner) { freed.emplace_back(id, owner); });
  EXPECT_TRUE(refs.AddBorrowed(Id(7), "owner-a"));
  EXPECT_FALSE(refs.AddBorrowed(Id(7), "owner-a")) << "known already: no second registration";
  EXPECT_FALSE(refs.Owns(Id(7)));
  EXPECT_TRUE(refs.Knows(Id(7)));
  EXPECT_EQ(refs.OwnerOf(Id(7)), "owner-a");
  EXPECT_FALSE(refs.AddBorrower(Id(7), "x")) << "only an owner keeps borrowers";
  refs.AddLocalRef(Id(7));
  refs.AddTaskUse(Id(7));  // a result here mentions it
  refs.RemoveLocalRef(Id(7));
  EXPECT_TRUE(freed.empty());
  refs.RemoveTaskUse(Id(7));
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ(freed[0], std::make_pair(Id(7), std::string("owner-a")));
  EXPECT_EQ(refs.OwnerOf(Id(7)), std::nullopt);
}

}  // namespace
