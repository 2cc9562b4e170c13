// The GCS's tables in a real Redis: the storage keeps binary keys and
// values, tables and clusters apart, says clearly when Redis is gone or
// refuses it, reconnects when Redis comes back; and a Gcs over a fresh
// connection recovers every table (a restarted control service).

#include "gcs/redis_gcs_storage.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../cluster/processes.h"
#include "gcs/gcs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raycc::gcs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class RedisGcsStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/raycc-redis-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    redis_ = raycc_test::StartRedis(dir_, &port_);
    if (redis_ == nullptr) GTEST_SKIP() << "no redis-server at " << REDIS_SERVER_BIN << " could be started";
  }
  void TearDown() override {
    redis_.reset();
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)!std::system(cmd.c_str());
  }
  std::unique_ptr<RedisGcsStorage> Connect(const std::string& prefix = "raycc") {
    absl::StatusOr<std::unique_ptr<RedisGcsStorage>> storage =
        RedisGcsStorage::Connect({.port = port_, .prefix = prefix});
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? *std::move(storage) : nullptr;
  }
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<raycc_test::Process> redis_;
};

TEST(RedisAddressTest, ParsesHostAndPortOrSaysWhatIsWrong) {
  absl::StatusOr<RedisAddress> full = ParseRedisAddress("10.0.0.5:7000");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->host, "10.0.0.5");
  EXPECT_EQ(full->port, 7000);
  EXPECT_EQ(ParseRedisAddress("6380")->host, "127.0.0.1");
  EXPECT_EQ(ParseRedisAddress(":6380")->port, 6380);
  for (const char* bad : {"", "host:", "host:port", "host:0", "host:70000"}) {
    absl::StatusOr<RedisAddress> parsed = ParseRedisAddress(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("HOST:PORT")) << bad;
  }
}

TEST_F(RedisGcsStorageTest, TablesKeepBinaryKeysAndValuesApartAndScanInKeyOrder) {
  std::unique_ptr<RedisGcsStorage> storage = Connect();
  ASSERT_NE(storage, nullptr);
  const std::string binary_key("k\0\xff", 3), binary_value("v\0\x01\x80", 4);
  ASSERT_TRUE(storage->Put("t", binary_key, binary_value).ok());
  ASSERT_TRUE(storage->Put("t", "b", "2").ok());
  ASSERT_TRUE(storage->Put("t", "a", "1").ok());
  ASSERT_TRUE(storage->Put("other", "a", "elsewhere").ok());
  EXPECT_EQ(**storage->Get("t", binary_key), binary_value);
  EXPECT_EQ(*storage->Get("t", "missing"), std::nullopt);
  EXPECT_THAT(*storage->Scan("t", ""),
              ElementsAre(Pair("a", "1"), Pair("b", "2"), Pair(binary_key, binary_value)));
  EXPECT_THAT(*storage->Scan("t", "k"), ElementsAre(Pair(binary_key, binary_value)));
  EXPECT_TRUE(*storage->Delete("t", "a"));
  EXPECT_FALSE(*storage->Delete("t", "a"));
  EXPECT_EQ(**storage->Get("other", "a"), "elsewhere");
  // Another cluster's prefix sees none of it; the same prefix sees all.
  EXPECT_THAT(*Connect("other-cluster")->Scan("t", ""), ::testing::IsEmpty());
  EXPECT_EQ(Connect()->Scan("t", "")->size(), 2u);
}

TEST_F(RedisGcsStorageTest, ALostRedisIsAClearErrorAndACallAfterItsReturnReconnects) {
  std::unique_ptr<RedisGcsStorage> storage = Connect();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Put("t", "a", "1").ok());
  redis_.reset();  // SIGKILL
  absl::Status lost = storage->Put("t", "a", "2");
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  EXPECT_THAT(lost.message(), HasSubstr("Redis at 127.0.0.1:" + std::to_string(port_)));
  // Back on the same port (empty: this test's Redis keeps no snapshot).
  const std::string log = dir_ + "/again.log";
  redis_ = std::make_unique<raycc_test::Process>(
      std::vector<std::string>{REDIS_SERVER_BIN, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", dir_},
      log);
  ASSERT_THAT(
      raycc_test::WaitForFileText(
          log, [](const std::string& t) { return t.find("Ready to accept") != std::string::npos; }, *redis_),
      HasSubstr("Ready to accept"));
  ASSERT_TRUE(storage->Put("t", "a", "3").ok());
  EXPECT_EQ(**storage->Get("t", "a"), "3");
}

TEST_F(RedisGcsStorageTest, ARedisThatWantsAPasswordRefusesAWrongOne) {
  redis_.reset();
  redis_ = raycc_test::StartRedis(dir_, &port_, {"--requirepass", "sesame"});
  ASSERT_NE(redis_, nullptr);
  for (const char* wrong : {"", "open"}) {
    absl::StatusOr<std::unique_ptr<RedisGcsStorage>> refused =
        RedisGcsStorage::Connect({.port = port_, .password = wrong});
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
    EXPECT_THAT(refused.status().message(), HasSubstr("refused"));
  }
  absl::StatusOr<std::unique_ptr<RedisGcsStorage>> ok =
      RedisGcsStorage::Connect({.port = port_, .password = "sesame"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE((*ok)->Put("t", "a", "1").ok());
}

TEST(RedisGcsStorageUnreachableTest, NoRedisIsAClearError) {
  absl::StatusOr<std::unique_ptr<RedisGcsStorage>> none =
      RedisGcsStorage::Connect({.port = raycc_test::FreeLoopbackPort()});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(none.status().message(), HasSubstr("cannot be reached"));
}

ResourceSet Res(std::map<std::string, double> q) { return *ResourceSet::Create(q); }

// Reserves every prepared bundle (this test is about what is stored).
struct AcceptingRaylets : BundleReserverInterface {
  std::vector<std::pair<NodeId, scheduling::Units>> nodes;
  std::vector<std::pair<NodeId, scheduling::Units>> AvailableResources() override { return nodes; }
  bool PrepareBundle(const PlacementGroupId&, int, const scheduling::Units&, const NodeId&) override {
    return true;
  }
  void CommitBundle(const PlacementGroupId&, int, const scheduling::Units&, const NodeId&) override {}
  void CancelBundle(const PlacementGroupId&, int, const scheduling::Units&, const NodeId&) override {}
  void ReturnBundle(const PlacementGroupId&, int, const scheduling::Units&, const NodeId&) override {}
};

TEST_F(RedisGcsStorageTest, ARestartedGcsRecoversEveryTable) {
  const NodeId a = NodeId::FromRandom(), b = NodeId::FromRandom();
  const JobId job = JobId::FromInt(1);
  const ActorId named = ActorId::Of(job), dead = ActorId::Of(job);
  const PlacementGroupId created = PlacementGroupId::Of(job), waiting = PlacementGroupId::Of(job);
  {
    Gcs gcs(Connect());
    for (const auto& [id, name] : {std::pair{a, "a"}, std::pair{b, "b"}}) {
      proto::NodeInfo node;
      node.set_node_id(id.Binary());
      node.set_node_name(name);
      Res({{"CPU", 2}}).ToProto(node.mutable_total_resources());
      ASSERT_TRUE(gcs.RegisterNode(node).ok());
    }
    ASSERT_TRUE(gcs.MarkNodeDead(b, "it stopped").ok());
    ASSERT_EQ(*gcs.NextJobId(), job);
    ASSERT_TRUE(gcs.AddJob(job, proto::Address()).ok());
    ASSERT_TRUE(gcs.AddJob(JobId::FromInt(9), proto::Address()).ok());
    ASSERT_TRUE(gcs.MarkJobFinished(JobId::FromInt(9)).ok());
    proto::ActorSpec spec;
    spec.set_actor_id(named.Binary());
    spec.set_name("keeper");
    spec.set_namespace_("ns");
    ASSERT_TRUE(gcs.RegisterActor(spec).ok());
    proto::Address where;
    where.set_node_id(a.Binary());
    ASSERT_TRUE(gcs.MarkActorAlive(named, where).ok());
    spec.set_actor_id(dead.Binary());
    spec.set_name("gone");
    ASSERT_TRUE(gcs.RegisterActor(spec).ok());
    ASSERT_TRUE(gcs.MarkActorDead(dead, "killed").ok());
    AcceptingRaylets raylets;
    raylets.nodes.emplace_back(a, scheduling::ToUnits(Res({{"CPU", 2}})));
    gcs.SetBundleReserver(&raylets);
    ASSERT_TRUE(
        gcs.CreatePlacementGroup(created, "held", scheduling::BundleStrategy::kPack, {Res({{"CPU", 1}})}, {})
            .ok());
    ASSERT_EQ(*gcs.GetPlacementGroupState(created), proto::PG_CREATED);
    gcs.SetBundleReserver(nullptr);
    ASSERT_TRUE(
        gcs.CreatePlacementGroup(waiting, "later", scheduling::BundleStrategy::kPack, {Res({{"CPU", 1}})}, {})
            .ok());
    ASSERT_TRUE(*gcs.KvPut("code", "program",
                           std::string("\x7f"
                                       "ELF\0",
                                       5),
                           true));
  }  // (the first GCS is gone; Redis kept its tables)

  Gcs gcs(Connect());
  ASSERT_TRUE(gcs.Recover().ok());
  std::vector<proto::NodeInfo> nodes = gcs.GetAllNodes();
  ASSERT_EQ(nodes.size(), 2u);
  std::map<std::string, proto::NodeInfo> by_name;
  for (const proto::NodeInfo& node : nodes) by_name[node.node_name()] = node;
  EXPECT_EQ(by_name["a"].state(), proto::NodeInfo::ALIVE);
  EXPECT_EQ(by_name["b"].state(), proto::NodeInfo::DEAD);
  EXPECT_EQ(by_name["b"].death_cause(), "it stopped");
  // The named actor is found by its name; the dead one's name is free.
  std::optional<proto::ActorInfo> keeper = gcs.GetNamedActor("ns", "keeper");
  ASSERT_TRUE(keeper.has_value());
  EXPECT_EQ(keeper->spec().actor_id(), named.Binary());
  EXPECT_EQ(keeper->state(), proto::ALIVE);
  EXPECT_EQ(keeper->address().node_id(), a.Binary());
  EXPECT_FALSE(gcs.GetNamedActor("ns", "gone").has_value());
  EXPECT_EQ(gcs.GetActor(dead)->death_cause(), "killed");
  // Groups keep their state and bundle nodes; a pending one is reserved
  // once there are raylets again.
  absl::StatusOr<proto::PlacementGroupInfo> held = gcs.GetPlacementGroup(created);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->state(), proto::PG_CREATED);
  EXPECT_EQ(held->spec().bundles(0).node_id(), a.Binary());
  EXPECT_EQ(*gcs.GetPlacementGroupState(waiting), proto::PG_PENDING);
  AcceptingRaylets raylets;
  raylets.nodes.emplace_back(a, scheduling::ToUnits(Res({{"CPU", 2}})));
  gcs.SetBundleReserver(&raylets);
  EXPECT_THAT(gcs.ReservePending(), ElementsAre(waiting));
  EXPECT_EQ(*gcs.GetPlacementGroupState(waiting), proto::PG_CREATED);
  // Jobs go on from where they were (a finished one is known finished:
  // the raylets are told again); KV is there.
  EXPECT_THAT(gcs.FinishedJobs(), ElementsAre(JobId::FromInt(9)));
  EXPECT_EQ(*gcs.NextJobId(), JobId::FromInt(2));
  EXPECT_EQ(**gcs.KvGet("code", "program"), std::string("\x7f"
                                                        "ELF\0",
                                                        5));
  // A name a live actor holds is still taken.
  proto::ActorSpec again;
  again.set_actor_id(ActorId::Of(job).Binary());
  again.set_name("keeper");
  again.set_namespace_("ns");
  EXPECT_EQ(gcs.RegisterActor(again).code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(RedisGcsStorageTest, AStoredRecordThatDoesNotParseIsDataLossNamingIt) {
  std::unique_ptr<RedisGcsStorage> storage = Connect();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Put(tables::kNodes, NodeId::FromRandom().Binary(), "not a node").ok());
  Gcs gcs(std::move(storage));
  absl::Status recovered = gcs.Recover();
  EXPECT_EQ(recovered.code(), absl::StatusCode::kDataLoss) << recovered;
  EXPECT_THAT(recovered.message(), HasSubstr("stored node record"));
}

TEST_F(RedisGcsStorageTest, ARecordThatParsesButIsNotValidIsDataLossToo) {
  // A node with a malformed resource, and a group with no bundles or a
  // strategy out of range: refused at recovery, not trusted later.
  const NodeId node = NodeId::FromRandom();
  proto::NodeInfo bad_node;
  bad_node.set_node_id(node.Binary());
  bad_node.set_node_name("n");
  (*bad_node.mutable_total_resources()->mutable_quantities())["CPU"] = -5;
  {
    std::unique_ptr<RedisGcsStorage> storage = Connect("bad-node");
    ASSERT_TRUE(storage->Put(tables::kNodes, node.Binary(), bad_node.SerializeAsString()).ok());
    Gcs gcs(std::move(storage));
    EXPECT_EQ(gcs.Recover().code(), absl::StatusCode::kDataLoss);
  }
  const PlacementGroupId group = PlacementGroupId::Of(JobId::FromInt(1));
  proto::PlacementGroupInfo empty;
  empty.mutable_spec()->set_placement_group_id(group.Binary());
  proto::PlacementGroupInfo strange = empty;
  strange.mutable_spec()->add_bundles()->set_index(0);
  strange.mutable_spec()->set_strategy(static_cast<proto::PlacementStrategy>(42));
  for (const proto::PlacementGroupInfo& info : {empty, strange}) {
    std::unique_ptr<RedisGcsStorage> storage =
        Connect("bad-group-" + std::to_string(info.spec().bundles_size()));
    ASSERT_TRUE(storage->Put(tables::kPlacementGroups, group.Binary(), info.SerializeAsString()).ok());
    Gcs gcs(std::move(storage));
    absl::Status recovered = gcs.Recover();
    EXPECT_EQ(recovered.code(), absl::StatusCode::kDataLoss) << recovered;
    EXPECT_THAT(recovered.message(), HasSubstr("stored placement group record"));
  }
}

}  // namespace
}  // namespace raycc::gcs

namespace raycc::gcs {
namespace {

// A Redis that is still loading its data, on a real socket: it answers
// LOADING to its first `loading` commands, then as Redis does to PING and
// HLEN (other commands: an error).
class LoadingRedis {
 public:
  explicit LoadingRedis(int loading) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, loading] { Serve(loading); });
  }
  ~LoadingRedis() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
    if (conn_fd_ >= 0) ::close(conn_fd_);
  }
  int port() const { return port_; }
  int answered_loading() const { return answered_loading_.load(); }

 private:
  // One command ("*N\r\n$len\r\narg\r\n..."), once `buffer` holds it whole.
  static std::optional<std::vector<std::string>> Parse(std::string& buffer) {
    size_t at = 0;
    auto line = [&]() -> std::optional<std::string> {
      size_t end = buffer.find("\r\n", at);
      if (end == std::string::npos) return std::nullopt;
      std::string text = buffer.substr(at, end - at);
      at = end + 2;
      return text;
    };
    std::optional<std::string> head = line();
    if (!head || head->empty() || (*head)[0] != '*') return std::nullopt;
    std::vector<std::string> args;
    for (int n = std::atoi(head->c_str() + 1); n > 0; --n) {
      std::optional<std::string> size = line();
      if (!size) return std::nullopt;
      const size_t length = std::strtoul(size->c_str() + 1, nullptr, 10);
      if (buffer.size() < at + length + 2) return std::nullopt;
      args.push_back(buffer.substr(at, length));
      at += length + 2;
    }
    buffer.erase(0, at);
    return args;
  }
  void Serve(int loading) {
    conn_fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn_fd_ < 0) return;
    std::string buffer;
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::read(conn_fd_, chunk, sizeof(chunk));
      if (n <= 0) return;
      buffer.append(chunk, static_cast<size_t>(n));
      while (std::optional<std::vector<std::string>> command = Parse(buffer)) {
        std::string reply;
        if (answered_loading_ < loading) {
          ++answered_loading_;
          reply = "-LOADING Redis is loading the dataset in memory\r\n";
        } else if (!command->empty() && (*command)[0] == "PING") {
          reply = "+PONG\r\n";
        } else if (!command->empty() && (*command)[0] == "HLEN") {
          reply = ":0\r\n";
        } else {
          reply = "-ERR not in this fake\r\n";
        }
        if (::write(conn_fd_, reply.data(), reply.size()) != static_cast<ssize_t>(reply.size())) return;
      }
    }
  }

  int listen_fd_ = -1;
  int conn_fd_ = -1;
  int port_ = 0;
  std::atomic<int> answered_loading_{0};
  std::thread thread_;
};

TEST(RedisLoadingTest, AGcsWaitsForARedisThatIsStillLoadingItsData) {
  LoadingRedis redis(/*loading=*/5);
  ASSERT_NE(redis.port(), 0);
  absl::StatusOr<std::unique_ptr<RedisGcsStorage>> storage =
      RedisGcsStorage::Connect({.port = redis.port(), .loading_wait = std::chrono::seconds(30)});
  ASSERT_TRUE(storage.ok()) << storage.status();
  EXPECT_EQ(redis.answered_loading(), 5);
}

TEST(RedisLoadingTest, ARedisLoadingForTooLongIsAClearError) {
  LoadingRedis redis(/*loading=*/1 << 30);
  ASSERT_NE(redis.port(), 0);
  absl::StatusOr<std::unique_ptr<RedisGcsStorage>> storage =
      RedisGcsStorage::Connect({.port = redis.port(), .loading_wait = std::chrono::milliseconds(300)});
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(storage.status().message(), ::testing::HasSubstr("still loading its data after 300 ms"));
}

}  // namespace
}  // namespace raycc::gcs
