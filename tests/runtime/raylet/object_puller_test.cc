// Node-to-node transfer, the receiving side, against a holder raylet faked
// on a real gRPC port: an object arrives whole and sealed in this node's
// store; pulls of one object at once make one transfer; a holder that fails
// mid-transfer gives an error naming it and how far it got, and leaves no
// partial copy; a holder that does not have it says so.

#include "raylet/object_puller.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "object_store/shared_object_store.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "rpc/auth.h"
#include "rpc/server.h"

namespace raycc::raylet {
namespace {

using ::testing::HasSubstr;

constexpr char kToken[] = "puller-test-token";

// Streams `object` in chunks; after `fail_after` chunks (when >= 0) it
// fails as a holder that died would.
class FakeHolder final : public proto::RayletService::Service {
 public:
  std::string object;
  int fail_after = -1;
  std::atomic<int> pulls{0};
  grpc::Status PullObject(grpc::ServerContext*, const proto::PullObjectRequest* request,
                          grpc::ServerWriter<proto::ObjectChunk>* writer) override {
    ++pulls;
    if (object.empty()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such object here");
    const size_t chunk = request->chunk_size();
    proto::ObjectChunk out;
    out.set_total_size(object.size());
    int sent = 0;
    for (size_t offset = 0; offset < object.size(); offset += chunk, ++sent) {
      if (sent == fail_after) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the holder went away");
      out.set_offset(offset);
      out.set_data(object.substr(offset, chunk));
      if (!writer->Write(out)) return grpc::Status::CANCELLED;
    }
    return grpc::Status::OK;
  }
};

class ObjectPullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store =
        object_store::SharedObjectStore::Create("raycc-puller-test-" + std::to_string(::getpid()), 64 << 20);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto server = rpc::StartServer("127.0.0.1", 0, {&holder_}, &port_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    from_ = "127.0.0.1:" + std::to_string(port_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  static std::string Pattern(size_t size) {
    std::string s(size, '\0');
    for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i * 31 + 7);
    return s;
  }
  ObjectId id_ = *ObjectId::ForReturn(TaskId::Of(JobId::FromInt(3)), 1);
  FakeHolder holder_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<object_store::SharedObjectStore> store_;
  std::string from_;
};

TEST_F(ObjectPullerTest, AnObjectArrivesWholeInChunksAndOncePerNode) {
  holder_.object = Pattern(12 << 20);  // (3 chunks of 5 MiB, the last one short)
  ObjectPuller puller(*store_, kToken);
  std::vector<std::thread> readers;
  std::atomic<int> good{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      absl::StatusOr<uint64_t> size = puller.Pull(id_, from_);
      if (size.ok() && *size == holder_.object.size()) ++good;
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(good.load(), 4);
  EXPECT_EQ(holder_.pulls.load(), 1) << "one transfer for the four who asked";
  auto view = store_->Get(id_);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_TRUE((*view)->bytes() == holder_.object);
  EXPECT_EQ(puller.pulls(), 1u);
  EXPECT_EQ(puller.bytes_pulled(), holder_.object.size());
  // Here already: no transfer.
  EXPECT_TRUE(puller.Pull(id_, from_).ok());
  EXPECT_EQ(holder_.pulls.load(), 1);
}

TEST_F(ObjectPullerTest, AHolderThatFailsMidTransferIsAClearErrorAndLeavesNoPartialCopy) {
  holder_.object = Pattern(12 << 20);
  holder_.fail_after = 2;
  ObjectPuller puller(*store_, kToken);
  absl::StatusOr<uint64_t> size = puller.Pull(id_, from_);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(size.status().message(),
              HasSubstr("pulling object " + id_.Hex() + " from the raylet at " + from_));
  EXPECT_THAT(size.status().message(), HasSubstr("after 10485760 of 12582912 bytes: the holder went away"));
  EXPECT_EQ(store_->Stats().objects, 0u) << "the partial copy is removed";
  // The holder is back: the next pull works.
  holder_.fail_after = -1;
  EXPECT_TRUE(puller.Pull(id_, from_).ok());
}

TEST_F(ObjectPullerTest, AHolderWithoutTheObjectOrNoHolderAtAllSaySo) {
  ObjectPuller puller(*store_, kToken);
  absl::StatusOr<uint64_t> missing = puller.Pull(id_, from_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("no such object here"));
  server_->Shutdown();
  server_.reset();
  absl::StatusOr<uint64_t> gone = puller.Pull(id_, from_);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kUnavailable) << gone.status();
  EXPECT_EQ(store_->Stats().objects, 0u);
}

// Holders are tried in turn: one that is gone, one without the object and
// one that fails mid-transfer are passed over for the next, which gives it.
TEST_F(ObjectPullerTest, AFailingHolderIsPassedOverForTheNext) {
  holder_.object = Pattern(12 << 20);
  holder_.fail_after = 1;  // (this one dies after the first chunk)
  FakeHolder empty, good;
  good.object = holder_.object;
  int empty_port = 0, good_port = 0;
  auto empty_server = rpc::StartServer("127.0.0.1", 0, {&empty}, &empty_port);
  auto good_server = rpc::StartServer("127.0.0.1", 0, {&good}, &good_port);
  ASSERT_TRUE(empty_server.ok() && good_server.ok());
  const std::string gone = "127.0.0.1:1";  // (nothing listens there)
  const std::string lacks = "127.0.0.1:" + std::to_string(empty_port);
  const std::string has = "127.0.0.1:" + std::to_string(good_port);
  ObjectPuller puller(*store_, kToken);
  absl::StatusOr<uint64_t> size = puller.Pull(id_, std::vector<std::string>{gone, lacks, from_, has});
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, holder_.object.size());
  EXPECT_EQ(empty.pulls.load(), 1);
  EXPECT_EQ(holder_.pulls.load(), 1);
  EXPECT_EQ(good.pulls.load(), 1);
  auto view = store_->Get(id_);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE((*view)->bytes() == holder_.object);
  view->reset();
  // None can: the error names each holder and why.
  ASSERT_TRUE(store_->Delete(id_).ok());
  (*good_server)->Shutdown();
  absl::StatusOr<uint64_t> none = puller.Pull(id_, std::vector<std::string>{lacks, from_, has});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(),
              HasSubstr("no holder of object " + id_.Hex() + " could give it (3 tried)"));
  EXPECT_THAT(none.status().message(), HasSubstr("from the raylet at " + lacks));
  EXPECT_THAT(none.status().message(), HasSubstr("the holder went away"));
  EXPECT_THAT(none.status().message(), HasSubstr("from the raylet at " + has));
  EXPECT_EQ(store_->Stats().objects, 0u);
  (*empty_server)->Shutdown();
}

}  // namespace
}  // namespace raycc::raylet
