// A driver program as a user writes one: a plain main using the dynamic API,
// run against a real cluster (RAYCC_ADDRESS, RAYCC_AUTH_TOKEN) by
// cluster_runtime_test. The raylets run this same executable as their
// worker processes (uploaded by content hash); Init never returns there.
//
// Prints one "name value" line per check, computed from what the cluster
// returned; the test compares them with what they must be. Exits 1 on an
// unexpected exception.

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <new>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "raycc/api.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "rpc/auth.h"
#include "rpc/server.h"

// The largest single allocation while `g_track_allocations` is set (every
// operator new of the process, the runtime's included): shows whether a Put
// made a buffer of the object's size on its way to the store.
// A value whose serializer throws on every second pass (the write after
// the measuring one): a Put of it must leave nothing in the store.
struct ThrowsOnWrite {
  int64_t bytes = 0;
};
thread_local int g_throws_on_write_passes = 0;  // (one count for every kind of stream)
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <>
  struct pack<ThrowsOnWrite> {
    template <typename Stream>
    packer<Stream>& operator()(packer<Stream>& o, const ThrowsOnWrite& v) const {
      if (++g_throws_on_write_passes % 2 == 0) throw std::runtime_error("the serializer failed midway");
      o.pack(std::string(static_cast<size_t>(v.bytes), 'w'));
      return o;
    }
  };
  template <>
  struct convert<ThrowsOnWrite> {
    const msgpack::object& operator()(const msgpack::object& o, ThrowsOnWrite& v) const {
      v.bytes = o.type == msgpack::type::STR ? o.via.str.size : 0;
      return o;
    }
  };
  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack

namespace {
std::atomic<bool> g_track_allocations{false};
std::atomic<size_t> g_largest_allocation{0};
}  // namespace

void* operator new(size_t size) {
  if (g_track_allocations.load(std::memory_order_relaxed)) {
    size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// (GCC takes the replaced pair for a mismatch: the free() below frees what
// the malloc() above made.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

int Add(int a, int b) { return a + b; }
int Pid() { return static_cast<int>(::getpid()); }
int Square(int x) { return x * x; }
std::string NodeName() { return raycc::CurrentNodeName(); }

// A nested submission: a task that submits tasks and waits for them (its
// worker gives its CPU back while it waits).
int SumOfSquares(int n) {
  std::vector<raycc::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i) refs.push_back(raycc::Task(Square).Remote(i));
  int sum = 0;
  for (const auto& value : raycc::Get(refs)) sum += *value;
  return sum;
}

int Fails(int x) { throw std::invalid_argument("bad x: " + std::to_string(x)); }

// Blocks until the driver writes to the FIFO at `path`.
std::string ReadFifo(std::string path) {
  std::ifstream in(path);
  std::string word;
  in >> word;
  return word;
}

// Kills its own worker the first time (no marker file yet), then succeeds.
int DiesOnce(std::string marker) {
  struct stat st;
  if (::stat(marker.c_str(), &st) != 0) {
    std::ofstream(marker) << "x";
    ::raise(SIGKILL);
  }
  return 7;
}

int AlwaysDies() {
  ::raise(SIGKILL);
  return 0;
}

std::vector<double> Scale(std::vector<double> v, double f) {
  for (double& x : v) x *= f;
  return v;
}

class Counter {
 public:
  static Counter* Create(int start) { return new Counter(start); }
  static Counter* CreateOrThrow(int start) {
    if (start < 0) throw std::domain_error("negative start");
    return new Counter(start);
  }
  int Add(int n) { return value_ += n; }
  int Pid() { return static_cast<int>(::getpid()); }
  std::string Node() { return raycc::CurrentNodeName(); }
  int Fail() { throw std::logic_error("counter refuses"); }
  int Crash() {
    ::raise(SIGKILL);
    return 0;
  }

 private:
  explicit Counter(int start) : value_(start) {}
  int value_;
};

// A second caller, in another process: finds the actor by name.
int AddByName(std::string name, int n) {
  std::optional<raycc::ActorHandle<Counter>> counter = raycc::GetActor<Counter>(name);
  if (!counter) throw std::runtime_error("no actor named " + name);
  return *counter->Task(&Counter::Add).Remote(n).Get();
}

// Kills the actor named `name` from this process (not its owner).
int KillByName(std::string name) {
  std::optional<raycc::ActorHandle<Counter>> actor = raycc::GetActor<Counter>(name);
  if (!actor) return 0;
  actor->Kill();
  return 1;
}

int AddThroughHandle(raycc::ActorHandle<Counter> counter, int n) {
  return *counter.Task(&Counter::Add).Remote(n).Get();
}

RAYCC_REMOTE(Counter::Create, Counter::CreateOrThrow, &Counter::Add, &Counter::Pid, &Counter::Node,
             &Counter::Fail, &Counter::Crash, AddByName, AddThroughHandle, KillByName);
int SumOfSquaresOnBig(int n);
std::string Barrier(std::string dir, int n);
std::string Nested(int depth);
std::string MarkThenReadFifo(std::string marker, std::string fifo);

// Ownership on the wire: references that leave their owner's process.
int SumRefs(std::vector<raycc::ObjectRef<int>> refs) {
  int sum = 0;
  for (const auto& ref : refs) sum += *ref.Get();
  return sum;
}

// References this worker owns, returned inside a value.
std::vector<raycc::ObjectRef<int>> MakeRefs(int n) {
  std::vector<raycc::ObjectRef<int>> out;
  for (int i = 0; i < n; ++i) out.push_back(raycc::Put(i * 10));
  return out;
}

// Keeps references another process owns (it borrows them).
class Keeper {
 public:
  static Keeper* Create() { return new Keeper(); }
  int Keep(std::vector<raycc::ObjectRef<int>> refs) {
    refs_ = std::move(refs);
    return static_cast<int>(refs_.size());
  }
  int Sum() { return SumRefs(refs_); }
  // Hands the borrowed references on to a task in another process.
  int PassOn() { return *raycc::Task(SumRefs).Remote(refs_).Get(); }
  std::vector<raycc::ObjectRef<int>> Lend() { return refs_; }
  int Drop() {
    refs_.clear();
    return 0;
  }
  // Dies holding its borrowed references (it never releases them).
  int Crash() {
    ::raise(SIGKILL);
    return 0;
  }

 private:
  std::vector<raycc::ObjectRef<int>> refs_;
};
RAYCC_REMOTE(SumRefs, MakeRefs, Keeper::Create, &Keeper::Keep, &Keeper::Sum, &Keeper::PassOn, &Keeper::Lend,
             &Keeper::Drop, &Keeper::Crash);
RAYCC_REMOTE(SumOfSquaresOnBig, Barrier, Nested, MarkThenReadFifo);
RAYCC_REMOTE(Add, Pid, Square, NodeName, SumOfSquares, Fails, ReadFifo, DiesOnce, AlwaysDies, Scale);

// Big values: made the same way in every process, checked by FNV-1a.
std::string MakeBig(int64_t mib, int64_t seed) {
  std::string s(static_cast<size_t>(mib) << 20, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 131 + static_cast<size_t>(seed));
  return s;
}
int64_t ChecksumOf(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return static_cast<int64_t>(h >> 1);
}
raycc::SharedBytes MakeShared(int64_t mib, int64_t seed) { return raycc::SharedBytes(MakeBig(mib, seed)); }

// Whether `p` lies in a mapping of this process whose file starts with
// `prefix` (/proc/self/maps).
bool InMapping(const void* p, const std::string& prefix) {
  std::ifstream maps("/proc/self/maps");
  const auto at = reinterpret_cast<uintptr_t>(p);
  for (std::string line; std::getline(maps, line);) {
    uintptr_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) != 2 || at < start || at >= end) continue;
    const size_t path = line.find('/');
    return path != std::string::npos && line.compare(path, prefix.size(), prefix) == 0;
  }
  return false;
}

// Whether a SharedBytes argument is read where it lies (the node's store),
// and its checksum: "in_store,checksum".
std::string ArgInStore(raycc::SharedBytes bytes) {
  return std::string(InMapping(bytes.data(), "/dev/shm/raycc-") ? "yes" : "no") + "," +
         std::to_string(ChecksumOf(bytes.str()));
}
RAYCC_REMOTE(MakeBig, ChecksumOf, MakeShared, ArgInStore);

raycc::SharedArray<double> MakeArray(int64_t n) {
  std::vector<double> values(static_cast<size_t>(n));
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5 * static_cast<double>(i);
  return raycc::SharedArray<double>(std::move(values));
}
std::string SumOf(const raycc::SharedArray<double>& values) {
  return std::to_string(std::accumulate(values.begin(), values.end(), 0.0));
}
// Whether a SharedArray argument lies in the node's store (and is 8-byte
// aligned there), and its sum: "in_store,aligned,sum".
std::string ArrayArg(raycc::SharedArray<double> values) {
  return std::string(InMapping(values.data(), "/dev/shm/raycc-") ? "yes" : "no") + "," +
         (reinterpret_cast<uintptr_t>(values.data()) % 8 == 0 ? "yes" : "no") + "," + SumOf(values);
}
RAYCC_REMOTE(MakeArray, ArrayArg);

// Reads its argument (a view into the node's store while it runs), then
// its worker is killed holding it.
int64_t ReadsThenDies(std::string big) {
  if (!big.empty()) ::raise(SIGKILL);
  return 0;
}
RAYCC_REMOTE(ReadsThenDies);

// An actor that reads objects (on another node: pulled to its node).
class Reader {
 public:
  static Reader* Create() { return new Reader(); }
  int64_t Sum(const std::string& s) { return ChecksumOf(s); }
};
RAYCC_REMOTE(Reader::Create, &Reader::Sum);

// Borrows the objects it is given inside a value and reads them (on another
// node than their owner's: pulled here).
int64_t ChecksumOfBorrowed(std::vector<raycc::ObjectRef<std::string>> refs) {
  int64_t sum = 0;
  for (const raycc::ObjectRef<std::string>& ref : refs) sum += ChecksumOf(*ref.Get());
  return sum;
}
RAYCC_REMOTE(ChecksumOfBorrowed);

// Makes a large result in its own worker process, with that process's
// allocations tracked from the moment it returns (the result's way into
// the store), until Largest is called.
class ResultMaker {
 public:
  static ResultMaker* Create() { return new ResultMaker(); }
  std::vector<double> Make(int64_t n) {
    std::vector<double> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0.5);
    g_largest_allocation = 0;
    g_track_allocations = true;
    return v;
  }
  int64_t Largest() {
    g_track_allocations = false;
    return static_cast<int64_t>(g_largest_allocation.load());
  }
};
RAYCC_REMOTE(ResultMaker::Create, &ResultMaker::Make, &ResultMaker::Largest);

void Print(const std::string& name, const std::string& value) {
  std::cout << name << " " << value << std::endl;
}
void Print(const std::string& name, long value) { Print(name, std::to_string(value)); }

template <typename E, typename F>
std::string Caught(F&& f) {
  try {
    f();
    return "no-exception";
  } catch (const E& e) {
    return e.what();
  }
}

// A driver that records a timeline runs a task that submits 4 tasks and
// waits for them: the timeline (written at Shutdown) shows all five.
void NestedTimeline(const std::string& path) {
  raycc::Shutdown();
  raycc::Init(raycc::Config{.timeline_path = path});
  Print("nested", *raycc::Task(SumOfSquares).Remote(4).Get());
}  // (main's Shutdown writes it)

void Tasks() {
  Print("add", *raycc::Task(Add).Remote(1, 2).Get());
  Print("remote_pid_differs", *raycc::Task(Pid).Remote().Get() != ::getpid() ? 1 : 0);
  Print("node", *raycc::Task(NodeName).Remote().Get());
  // References as arguments, resolved by their owner (this driver).
  raycc::ObjectRef<int> left = raycc::Task(Add).Remote(1, 2);
  raycc::ObjectRef<int> right = raycc::Task(Add).Remote(3, 4);
  Print("chain", *raycc::Task(Add).Remote(left, right).Get());
  Print("put_arg", *raycc::Task(Add).Remote(raycc::Put(40), 2).Get());
  Print("nested", *raycc::Task(SumOfSquares).Remote(10).Get());
  std::vector<raycc::ObjectRef<int>> many;
  for (int i = 0; i < 50; ++i) many.push_back(raycc::Task(Add).Remote(i, i));
  int sum = 0;
  for (const auto& v : raycc::Get(many)) sum += *v;
  Print("many_sum", sum);
  std::vector<double> scaled = *raycc::Task(Scale).Remote(std::vector<double>{1.5, 2.5}, 2.0).Get();
  Print("scaled", std::to_string(scaled[0]) + "," + std::to_string(scaled[1]));

  // A task's exception, and a task that depends on the failed result.
  raycc::ObjectRef<int> failed = raycc::Task(Fails).Remote(5);
  try {
    failed.Get();
    Print("task_error", "none");
  } catch (const raycc::TaskError& e) {
    Print("task_error", e.function_name() + "|" + e.exception_type() + "|" + e.original_message());
    Print("task_error_where", e.where());
  }
  Print("dependent_error", Caught<raycc::TaskError>([&] {
                             raycc::Task(Add).Remote(failed, 1).Get();
                           }).find("bad x: 5") != std::string::npos
                               ? 1
                               : 0);
  Print("infeasible", Caught<raycc::InfeasibleError>([] {
          raycc::Task(Square).SetResources({{"CPU", 1}, {"GPU", 4}}).Remote(2).Get();
        }));

  // Timeouts and Wait on a task that cannot finish until we let it.
  std::string fifo = "/tmp/raycc-cluster-driver-" + std::to_string(::getpid()) + ".fifo";
  ::mkfifo(fifo.c_str(), 0600);
  raycc::ObjectRef<std::string> blocked = raycc::Task(ReadFifo).Remote(fifo);
  Print("timeout", Caught<raycc::GetTimeoutError>([&] { blocked.Get(50); }).find("not ready within 50 ms") !=
                           std::string::npos
                       ? 1
                       : 0);
  raycc::WaitResult<std::string> waited = raycc::Wait(std::vector{blocked}, 1, 0);
  Print("wait_unready", static_cast<long>(waited.unready.size()));
  std::ofstream(fifo) << "released";
  Print("fifo", *blocked.Get());
  ::unlink(fifo.c_str());
}

// Waits (bounded: 30 s) until `n` tasks are in the barrier at `dir`; the
// node it ran on. With one CPU per node, n such tasks can only all get in
// when they run on n different nodes at once.
std::string Barrier(std::string dir, int n) {
  std::ofstream(dir + "/" + std::to_string(::getpid())) << "in";
  int inotify = ::inotify_init1(IN_CLOEXEC);
  ::inotify_add_watch(inotify, dir.c_str(), IN_CLOSE_WRITE | IN_CREATE);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      count += entry.is_regular_file() ? 1 : 0;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (count >= n || left.count() <= 0) break;
    pollfd fd{inotify, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) > 0) {
      char events[4096];
      (void)!::read(inotify, events, sizeof(events));
    }
  }
  ::close(inotify);
  return raycc::CurrentNodeName();
}

// Three levels of nested tasks; the node the innermost ran on.
std::string Nested(int depth) {
  if (depth == 0) return raycc::CurrentNodeName();
  return *raycc::Task(Nested).Remote(depth - 1).Get();
}

// The GPU devices a task's lease holds, as GetGpuIds says ("0,1"; "" for
// none), once `n` tasks are in the barrier at `dir` (so that they hold
// their leases at once).
std::string GpusInBarrier(std::string dir, int n) {
  if (n > 0) Barrier(dir, n);
  std::string ids;
  for (int id : raycc::GetGpuIds()) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  return ids;
}

class GpuHolder {
 public:
  static GpuHolder* Create() { return new GpuHolder(); }
  std::string Gpus() { return GpusInBarrier("", 0); }
};
RAYCC_REMOTE(GpusInBarrier, GpuHolder::Create, &GpuHolder::Gpus);

// Tasks and an actor asking for GPUs on a node with two: each lease holds
// its own devices, a fraction shares one, and a task without GPUs sees none.
void Gpus(const std::string& dir) {
  std::vector<raycc::ObjectRef<std::string>> whole;
  for (int i = 0; i < 2; ++i) {
    whole.push_back(
        raycc::Task(GpusInBarrier).SetResources({{"CPU", 1}, {"GPU", 1}}).Remote(dir + "/whole", 2));
  }
  std::vector<std::string> got;
  for (const auto& one : raycc::Get(whole)) got.push_back(*one);
  std::sort(got.begin(), got.end());
  Print("gpu_whole", got[0] + ";" + got[1]);
  std::vector<raycc::ObjectRef<std::string>> halves;
  for (int i = 0; i < 2; ++i) {
    halves.push_back(
        raycc::Task(GpusInBarrier).SetResources({{"CPU", 1}, {"GPU", 0.5}}).Remote(dir + "/halves", 2));
  }
  got.clear();
  for (const auto& one : raycc::Get(halves)) got.push_back(*one);
  Print("gpu_halves", got[0] + ";" + got[1]);
  Print("gpu_none", "[" + *raycc::Task(GpusInBarrier).Remote(dir + "/none", 0).Get() + "]");
  raycc::ActorHandle<GpuHolder> actor =
      raycc::Actor(GpuHolder::Create).SetResources({{"CPU", 1}, {"GPU", 2}}).Remote();
  Print("gpu_actor", *actor.Task(&GpuHolder::Gpus).Remote().Get());
  Print("gpu_actor_again", *actor.Task(&GpuHolder::Gpus).Remote().Get());
}

void Nodes(const std::string& dir) {
  std::vector<raycc::ObjectRef<std::string>> in;
  for (int i = 0; i < 3; ++i) in.push_back(raycc::Task(Barrier).Remote(dir, 3));
  std::set<std::string> nodes;
  for (const auto& name : raycc::Get(in)) nodes.insert(*name);
  Print("barrier_nodes", static_cast<long>(nodes.size()));  // 3: one task per node, at once
  std::set<std::string> spread;
  std::string order;
  for (int i = 0; i < 6; ++i) {
    std::string node =
        *raycc::Task(NodeName).SetSchedulingStrategy(raycc::SchedulingStrategy::kSpread).Remote().Get();
    order += (order.empty() ? "" : ",") + node;
    spread.insert(node);
  }
  Print("spread_nodes", static_cast<long>(spread.size()));
  Print("spread_order", order);
  Print("affinity", *raycc::Task(NodeName).SetNodeAffinity("c").Remote().Get());
  Print("affinity_dead", Caught<raycc::InfeasibleError>(
                             [] { raycc::Task(NodeName).SetNodeAffinity("nowhere").Remote().Get(); }));
  Print("nested3", raycc::Task(Nested).Remote(3).Get()->empty() ? "empty" : "ok");
  // A handle passed to a task in another process calls the same actor.
  raycc::ActorHandle<Counter> counter = raycc::Actor(Counter::Create).Remote(1);
  Print("handle_in_task", *raycc::Task(AddThroughHandle).Remote(counter, 41).Get());
  Print("handle_after", *counter.Task(&Counter::Add).Remote(0).Get());

  // Label selectors (a: zone=east; b: zone=west; c: zone=west, accel=a100).
  Print("label_east", *raycc::Task(NodeName).SetLabelSelector({{"zone", "east"}}).Remote().Get());
  Print(
      "label_west_accel",
      *raycc::Task(NodeName).SetLabelSelector({{"zone", "west"}, {"accel", "in(a100,h100)"}}).Remote().Get());
  std::set<std::string> not_east;
  for (int i = 0; i < 4; ++i) {
    not_east.insert(*raycc::Task(NodeName).SetLabelSelector({{"zone", "!east"}}).Remote().Get());
  }
  std::string joined;
  for (const std::string& name : not_east) joined += (joined.empty() ? "" : ",") + name;
  Print("label_not_east", joined);
  Print("label_none", Caught<raycc::InfeasibleError>([] {
          raycc::Task(NodeName).SetLabelSelector({{"zone", "mars"}}).Remote().Get();
        }));
  Print("label_bad", Caught<raycc::RayccError>([] {
          raycc::Task(NodeName).SetLabelSelector({{"zone", "in()"}}).Remote().Get();
        }));
}

// A task of a shape only another node can hold: its lease spills there;
// the tasks it submits lease from its own raylet.
int SumOfSquaresOnBig(int n) { return SumOfSquares(n); }

void Spill() {
  Print("local", *raycc::Task(NodeName).Remote().Get());
  Print("spilled", *raycc::Task(NodeName).SetResources({{"CPU", 1}, {"big", 1}}).Remote().Get());
  Print("nested_on_big",
        *raycc::Task(SumOfSquaresOnBig).SetResources({{"CPU", 1}, {"big", 1}}).Remote(10).Get());
}

// Waits (bounded: 30 s) until `path` exists.
bool WaitForFile(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path();
  int inotify = ::inotify_init1(IN_CLOEXEC);
  ::inotify_add_watch(inotify, dir.c_str(), IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool found = false;
  for (;;) {
    found = std::filesystem::exists(path);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (found || left.count() <= 0) break;
    pollfd fd{inotify, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) > 0) {
      char events[4096];
      (void)!::read(inotify, events, sizeof(events));
    }
  }
  ::close(inotify);
  return found;
}

std::string MarkThenReadFifo(std::string marker, std::string fifo) {
  std::ofstream(marker) << raycc::CurrentNodeName();
  return ReadFifo(fifo);
}

// The nodes that ran one task in each bundle of `pg`, in bundle order
// ("a,b,c"), and how many distinct nodes that is.
std::pair<std::string, long> BundleNodes(const raycc::PlacementGroup& pg) {
  std::vector<raycc::ObjectRef<std::string>> where;
  for (int i = 0; i < pg.BundleCount(); ++i) {
    where.push_back(raycc::Task(NodeName).SetResources({{"CPU", 1}}).SetPlacementGroup(pg, i).Remote());
  }
  std::string list;
  std::set<std::string> distinct;
  for (const auto& name : raycc::Get(where)) {
    list += (list.empty() ? "" : ",") + *name;
    distinct.insert(*name);
  }
  return {list, static_cast<long>(distinct.size())};
}

raycc::PlacementGroup Group(raycc::PlacementStrategy strategy, int bundles, double cpus = 1) {
  raycc::PlacementGroupCreationOptions options;
  options.strategy = strategy;
  for (int i = 0; i < bundles; ++i) options.bundles.push_back({{"CPU", cpus}});
  return raycc::CreatePlacementGroup(options);
}

// Three nodes of 2 CPUs each: every strategy's promise, on the nodes that
// ran each bundle's work.
void Groups(const std::string& dir) {
  using raycc::PlacementStrategy;
  struct Case {
    const char* name;
    PlacementStrategy strategy;
    int bundles;
  };
  for (const Case& c :
       {Case{"strict_spread", PlacementStrategy::kStrictSpread, 3},
        Case{"strict_pack", PlacementStrategy::kStrictPack, 2}, Case{"pack", PlacementStrategy::kPack, 2},
        Case{"spread", PlacementStrategy::kSpread, 3}}) {
    raycc::PlacementGroup pg = Group(c.strategy, c.bundles);
    if (!pg.Wait(30)) throw std::runtime_error(std::string(c.name) + ": not reserved within 30 s");
    auto [list, distinct] = BundleNodes(pg);
    Print(std::string(c.name) + "_nodes", distinct);
    Print(std::string(c.name) + "_where", list);
    raycc::RemovePlacementGroup(pg.GetID());
  }

  // Infeasible groups are refused at creation, naming why.
  Print("infeasible_spread",
        Caught<raycc::InfeasibleError>([] { Group(PlacementStrategy::kStrictSpread, 4); }));
  Print("infeasible_bundle", Caught<raycc::InfeasibleError>([] { Group(PlacementStrategy::kPack, 1, 3); }));

  // A group that does not fit now waits; removing the one in its way lets
  // it in (all or nothing: the CPUs are all reserved meanwhile).
  raycc::PlacementGroup all = Group(PlacementStrategy::kStrictSpread, 3, 2);
  if (!all.Wait(30)) throw std::runtime_error("the group of every CPU was not reserved");
  raycc::PlacementGroup waiting = Group(PlacementStrategy::kPack, 1);
  bool early = raycc::internal::CurrentRuntime().WaitPlacementGroup(waiting.GetID(), 300);
  raycc::RemovePlacementGroup(all.GetID());
  Print("pending_then_ready", std::to_string(early) + "," + std::to_string(waiting.Wait(30)));
  Print("wait_removed", all.Wait(1) ? 1 : 0);
  raycc::RemovePlacementGroup(waiting.GetID());

  // An actor in a bundle lives on that bundle's node; a task asking for any
  // bundle runs on one of the group's nodes.
  raycc::PlacementGroup spread = Group(PlacementStrategy::kStrictSpread, 2);
  if (!spread.Wait(30)) throw std::runtime_error("the actor's group was not reserved");
  auto [spread_nodes, two] = BundleNodes(spread);
  raycc::ActorHandle<Counter> actor =
      raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).SetPlacementGroup(spread, 1).Remote(0);
  const std::string bundle1 = spread_nodes.substr(spread_nodes.find(',') + 1);
  Print("actor_on_bundle_node", *actor.Task(&Counter::Node).Remote().Get() == bundle1 ? 1 : 0);
  // The actor holds bundle 1's only CPU: more work there waits (never
  // over-committed).
  Print("bundle_full",
        Caught<raycc::GetTimeoutError>([&] {
          raycc::Task(NodeName).SetResources({{"CPU", 1}}).SetPlacementGroup(spread, 1).Remote().Get(300);
        }).find("not ready") != std::string::npos
            ? 1
            : 0);
  std::string any =
      *raycc::Task(NodeName).SetResources({{"CPU", 1}}).SetPlacementGroup(spread).Remote().Get();
  Print("any_bundle_in_group", spread_nodes.find(any) != std::string::npos ? 1 : 0);
  Print("too_big_for_bundle", Caught<raycc::InfeasibleError>([&] {
          raycc::Task(NodeName).SetResources({{"CPU", 2}}).SetPlacementGroup(spread, 0).Remote().Get();
        }));

  // Removing a group ends the work running in it.
  std::string fifo = dir + "/group.fifo", marker = dir + "/started";
  ::mkfifo(fifo.c_str(), 0600);
  raycc::ObjectRef<std::string> running = raycc::Task(MarkThenReadFifo)
                                              .SetResources({{"CPU", 1}})
                                              .SetPlacementGroup(spread, 0)
                                              .Remote(marker, fifo);
  Print("running_started", WaitForFile(marker) ? 1 : 0);
  raycc::RemovePlacementGroup(spread.GetID());
  Print("removed_running", Caught<raycc::RayccError>([&] { running.Get(); }));
  Print("actor_after_removal", Caught<raycc::RayccError>([&] { actor.Task(&Counter::Add).Remote(1).Get(); }));

  // Many groups at once, as a program makes them in a loop (they reach the
  // GCS in batches and are reserved together): every one is reserved, then
  // every one is removed (the test then finds all given back).
  std::vector<raycc::PlacementGroup> many;
  for (int i = 0; i < 300; ++i) {
    many.push_back(raycc::CreatePlacementGroup(
        {.bundles = {{{"CPU", 0.001}}, {{"CPU", 0.001}}},
         .strategy = i % 2 == 0 ? PlacementStrategy::kStrictSpread : PlacementStrategy::kPack}));
  }
  long ready = 0;
  for (raycc::PlacementGroup& pg : many) ready += pg.Wait(30) ? 1 : 0;
  Print("many_ready", ready);
  for (raycc::PlacementGroup& pg : many) raycc::RemovePlacementGroup(pg.GetID());

  // Wait(0) right after creating says what it knows (no error while the
  // creation is on its way); Wait after removing is false at once.
  raycc::PlacementGroup quick = Group(PlacementStrategy::kPack, 1, 0.001);
  Print("wait_zero", Caught<raycc::RayccError>([&] { quick.Wait(0); }));
  Print("wait_created", quick.Wait(30) ? 1 : 0);
  raycc::RemovePlacementGroup(quick.GetID());
  Print("wait_after_remove", quick.Wait(30) ? 1 : 0);
}

// A strict_spread group on a and b and an actor that may restart, in b's
// bundle. The test kills b and later starts c: the bundle is reserved again
// on c and the actor comes back there, fresh.
void Regroup(const std::string& dir) {
  raycc::PlacementGroup pair = Group(raycc::PlacementStrategy::kStrictSpread, 2);
  if (!pair.Wait(30)) throw std::runtime_error("the group was not reserved");
  const std::string where = BundleNodes(pair).first;
  const int on_b = where.substr(0, where.find(',')) == "b" ? 0 : 1;
  raycc::ActorHandle<Counter> actor = raycc::Actor(Counter::Create)
                                          .SetResources({{"CPU", 1}})
                                          .SetMaxRestarts(-1)
                                          .SetPlacementGroup(pair, on_b)
                                          .Remote(0);
  Print("before", *actor.Task(&Counter::Node).Remote().Get());
  Print("count_before", *actor.Task(&Counter::Add).Remote(5).Get());
  std::ofstream(dir + "/placed") << "placed";
  if (!WaitForFile(dir + "/go")) throw std::runtime_error("no go");
  // Calls fail while its worker is gone (an actor call is not retried);
  // later ones wait for the restart, which waits for the bundle.
  std::string after, failures;
  for (int i = 0; i < 20 && after.empty(); ++i) {
    try {
      after = *actor.Task(&Counter::Node).Remote().Get(60000);
    } catch (const raycc::RayccError& e) {
      failures += std::string(e.what()) + " | ";
    }
  }
  Print("after", after.empty() ? failures : after);
  Print("count_after", *actor.Task(&Counter::Add).Remote(1).Get());
}

// Waits (bounded: 30 s) until this process holds no object; true if so.
// Borrowers release their references in the background, so the owner's
// count reaches 0 a little after the last borrower let go. (A count no one
// signals: asked again, yielding in between.)
bool WaitForNoObjects() {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (raycc::internal::CurrentRuntime().LiveObjects() != 0) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

void Ownership() {
  raycc::ActorHandle<Keeper> keeper = raycc::Actor(Keeper::Create).Remote();
  {
    raycc::ObjectRef<int> x = raycc::Put(41);
    Print("kept", *keeper.Task(&Keeper::Keep).Remote(std::vector{x}).Get());
  }
  // This driver holds no reference to x any more; the keeper (another
  // process) borrows it, so it stays.
  Print("owner_objects_while_borrowed", static_cast<long>(raycc::internal::CurrentRuntime().LiveObjects()));
  Print("borrower_reads", *keeper.Task(&Keeper::Sum).Remote().Get());
  Print("third_process_reads", *keeper.Task(&Keeper::PassOn).Remote().Get());
  Print("lent_back", *keeper.Task(&Keeper::Lend).Remote().Get()->at(0).Get());
  Print("still_borrowed", static_cast<long>(raycc::internal::CurrentRuntime().LiveObjects()));
  keeper.Task(&Keeper::Drop).Remote().Get();
  Print("freed_when_released", WaitForNoObjects() ? 1 : 0);

  // References a worker owns, returned in a value: this driver borrows
  // them, reads them, and passes them on by reference and inside a value.
  {
    std::vector<raycc::ObjectRef<int>> refs = *raycc::Task(MakeRefs).Remote(3).Get();
    int sum = 0;
    for (const auto& ref : refs) sum += *ref.Get();
    Print("worker_owned_sum", sum);
    Print("borrowed_as_arg", *raycc::Task(Add).Remote(refs[1], 5).Get());
    Print("borrowed_in_value", *raycc::Task(SumRefs).Remote(refs).Get());
  }
  // A Put value holding a reference keeps it while the value lives.
  {
    raycc::ObjectRef<std::vector<raycc::ObjectRef<int>>> outer;
    {
      raycc::ObjectRef<int> y = raycc::Put(5);
      outer = raycc::Put(std::vector{y});
    }
    Print("put_holds_ref", *(*outer.Get())[0].Get());
    Print("put_holds_ref_remote", *raycc::Task(SumRefs).Remote(outer).Get());
  }
  Print("no_borrowed_left", WaitForNoObjects() ? 1 : 0);

  // A borrower that dies holding a reference: the owner notices (it asks
  // its borrowers every second; three unanswered rounds in a row) and frees
  // the object.
  raycc::ActorHandle<Keeper> doomed = raycc::Actor(Keeper::Create).Remote();
  {
    raycc::ObjectRef<int> z = raycc::Put(7);
    doomed.Task(&Keeper::Keep).Remote(std::vector{z}).Get();
  }
  Print("kept_by_doomed", static_cast<long>(raycc::internal::CurrentRuntime().LiveObjects()));
  Caught<raycc::ActorDiedError>([&] { doomed.Task(&Keeper::Crash).Remote().Get(); });
  Print("freed_when_borrower_died", WaitForNoObjects() ? 1 : 0);
}

// Holds a lease (a task blocked on a FIFO nobody writes) and an actor's
// worker, says so, and waits to be killed (bounded: 2 minutes).
void Hold(const std::string& dir) {
  raycc::ActorHandle<Counter> actor =
      raycc::Actor(Counter::Create).SetResources({{"CPU", 1}}).SetName("held").Remote(0);
  Print("actor", *actor.Task(&Counter::Add).Remote(1).Get());
  const std::string fifo = dir + "/never.fifo";
  ::mkfifo(fifo.c_str(), 0600);
  raycc::ObjectRef<std::string> blocked = raycc::Task(MarkThenReadFifo).Remote(dir + "/started", fifo);
  Print("holding", WaitForFile(dir + "/started") ? 1 : 0);
  blocked.Get(120000);
}

// Joins, says so, and waits (bounded: a minute) for the word to go on,
// without submitting anything.
void Idle(const std::string& dir) {
  std::ofstream(dir + "/ready") << "ready";
  Print("went_on", WaitForFile(dir + "/go") ? 1 : 0);
}

// Runs across a restart of the GCS (the test restarts it between "ready"
// and "go"): what it set up before is still there, and what needs the GCS
// afterwards (a name lookup, a new actor, tasks) works.
void AcrossRestart(const std::string& dir) {
  raycc::ActorHandle<Counter> survivor = raycc::Actor(Counter::Create).SetName("survivor").Remote(10);
  Print("before", *survivor.Task(&Counter::Add).Remote(1).Get());  // 11
  raycc::ObjectRef<int> kept = raycc::Put(5);
  std::ofstream(dir + "/ready") << "ready";
  if (!WaitForFile(dir + "/go")) return;
  Print("actor_after", *survivor.Task(&Counter::Add).Remote(1).Get());  // 12
  Print("by_name_after", raycc::GetActor<Counter>("survivor").has_value() ? 1 : 0);
  raycc::ActorHandle<Counter> fresh = raycc::Actor(Counter::Create).SetName("fresh").Remote(100);
  Print("new_actor_after", *fresh.Task(&Counter::Add).Remote(1).Get());  // 101
  Print("task_after", *raycc::Task(Add).Remote(*kept.Get(), 2).Get());   // 7
}

void Actors() {
  raycc::ActorHandle<Counter> counter = raycc::Actor(Counter::Create).SetName("counter").Remote(10);
  std::vector<raycc::ObjectRef<int>> adds;
  for (int i = 0; i < 20; ++i) adds.push_back(counter.Task(&Counter::Add).Remote(1));
  std::string order;
  for (const auto& v : raycc::Get(adds)) order += std::to_string(*v) + ",";
  Print("ordered", order);  // 11,...,30: one at a time, in order
  Print("actor_pid_differs", *counter.Task(&Counter::Pid).Remote().Get() != ::getpid() ? 1 : 0);
  Print("by_name", *raycc::Task(AddByName).Remote(std::string("counter"), 100).Get());  // 130
  Print("after_by_name", *counter.Task(&Counter::Add).Remote(0).Get());
  Print("named_lookup", raycc::GetActor<Counter>("counter").has_value() ? 1 : 0);
  Print("unknown_name", raycc::GetActor<Counter>("nobody").has_value() ? 1 : 0);
  Print("method_error", Caught<raycc::TaskError>([&] {
                          counter.Task(&Counter::Fail).Remote().Get();
                        }).find("counter refuses") != std::string::npos
                            ? 1
                            : 0);
  Print("still_alive", *counter.Task(&Counter::Add).Remote(1).Get());  // 131

  // A kill from a process that is not the owner reaches the actor.
  raycc::ActorHandle<Counter> victim = raycc::Actor(Counter::Create).SetName("victim").Remote(1);
  Print("victim_alive", *victim.Task(&Counter::Add).Remote(1).Get());
  Print("killed_elsewhere", *raycc::Task(KillByName).Remote(std::string("victim")).Get());
  Print("killed_by_other",
        Caught<raycc::ActorDiedError>([&] { victim.Task(&Counter::Add).Remote(1).Get(); }));
  Print("victim_name_free", raycc::GetActor<Counter>("victim").has_value() ? 0 : 1);
  counter.Kill();
  Print("killed", Caught<raycc::ActorDiedError>([&] { counter.Task(&Counter::Add).Remote(1).Get(); }));

  // Restarts: the worker dies under a call; the call fails, the actor comes
  // back fresh.
  raycc::ActorHandle<Counter> phoenix = raycc::Actor(Counter::Create).SetMaxRestarts(1).Remote(5);
  Print("before_crash", *phoenix.Task(&Counter::Add).Remote(1).Get());  // 6
  Print("crash", Caught<raycc::ActorDiedError>([&] { phoenix.Task(&Counter::Crash).Remote().Get(); }));
  Print("restarted", *phoenix.Task(&Counter::Add).Remote(1).Get());  // 6 again: a fresh instance
  Print("crash_again", Caught<raycc::ActorDiedError>([&] { phoenix.Task(&Counter::Crash).Remote().Get(); }));
  Print("no_restarts_left",
        Caught<raycc::ActorDiedError>([&] { phoenix.Task(&Counter::Add).Remote(1).Get(); }));

  raycc::ActorHandle<Counter> bad = raycc::Actor(Counter::CreateOrThrow).Remote(-1);
  Print("constructor", Caught<raycc::ActorDiedError>([&] { bad.Task(&Counter::Add).Remote(1).Get(); }));
}

// What the raylet at `address` says of its node (its object store).
raycc::proto::GetNodeStatsReply RayletStats(const std::string& address) {
  auto stub = raycc::proto::RayletService::NewStub(raycc::rpc::Connect(address));
  grpc::ClientContext context;
  raycc::rpc::AddToken(&context, std::getenv("RAYCC_AUTH_TOKEN"));
  raycc::proto::GetNodeStatsReply stats;
  grpc::Status status = stub->GetNodeStats(&context, raycc::proto::GetNodeStatsRequest(), &stats);
  if (!status.ok()) throw std::runtime_error("GetNodeStats: " + status.error_message());
  return stats;
}

// Four nodes (the driver on a; `raylets` are a, b, c, d's addresses): an
// object read on b, then on c and d at once, is sent by a once (to b): c
// and d get it from the copies. Then a copy's holder dies (the test kills
// b's raylet): a node reading another object b held a copy of gets it
// from a, passing b over.
void Broadcast(const std::string& dir, const std::vector<std::string>& raylets) {
  const std::string big = MakeBig(32, 5);
  const int64_t sum = ChecksumOf(big);
  raycc::ObjectRef<std::string> ref = raycc::Put(big);
  auto read_on = [&](const char* node, const raycc::ObjectRef<std::string>& r) {
    return raycc::Task(ChecksumOf).SetNodeAffinity(node).Remote(r);
  };
  Print("on_b", *read_on("b", ref).Get() == sum ? "ok" : "wrong");
  raycc::ObjectRef<int64_t> on_c = read_on("c", ref), on_d = read_on("d", ref);
  Print("on_c_d", *on_c.Get() == sum && *on_d.Get() == sum ? "ok" : "wrong");
  long served_by_copies = 0;
  for (size_t k = 1; k < raylets.size(); ++k)
    served_by_copies += static_cast<long>(RayletStats(raylets[k]).objects_served());
  Print("served_by_a", static_cast<long>(RayletStats(raylets[0]).objects_served()));
  Print("served_by_copies", served_by_copies);

  const std::string other = MakeBig(16, 6);
  raycc::ObjectRef<std::string> second = raycc::Put(other);
  Print("second_on_b", *read_on("b", second).Get() == ChecksumOf(other) ? "ok" : "wrong");
  std::ofstream(dir + "/copied") << "copied";
  if (!WaitForFile(dir + "/go")) throw std::runtime_error("no go");
  Print("second_on_c", *read_on("c", second).Get(60000) == ChecksumOf(other) ? "ok" : "wrong");
}

// SharedArray<double> of 8 MiB, Put by this driver and made by a task on
// its node: Get and a task's argument point into the node's store.
void Arrays() {
  constexpr int64_t kN = 1 << 20;
  const std::string sum = SumOf(MakeArray(kN));
  Print("expected_sum", sum);
  raycc::ObjectRef<raycc::SharedArray<double>> put = raycc::Put(MakeArray(kN));
  std::shared_ptr<raycc::SharedArray<double>> got = put.Get();
  Print("put_in_store", InMapping(got->data(), "/dev/shm/raycc-") ? "yes" : "no");
  Print("put_ok", *got == MakeArray(kN) ? "ok" : "wrong");
  Print("put_arg", *raycc::Task(ArrayArg).Remote(put).Get());
  std::shared_ptr<raycc::SharedArray<double>> made = raycc::Task(MakeArray).Remote(kN).Get();
  Print("made_in_store", InMapping(made->data(), "/dev/shm/raycc-") ? "yes" : "no");
  Print("made_ok", *made == MakeArray(kN) ? "ok" : "wrong");
  std::vector<std::shared_ptr<raycc::SharedArray<double>>> both = raycc::Get(std::vector{put, put});
  Print("get_list_in_store", InMapping(both[1]->data(), "/dev/shm/raycc-") ? "yes" : "no");
  // A small one stays in its owner's memory, and reads the same.
  std::shared_ptr<raycc::SharedArray<double>> small = raycc::Put(raycc::SharedArray<double>({1, 2, 3})).Get();
  Print("small", small->vec() == std::vector<double>{1, 2, 3} && !InMapping(small->data(), "/dev/shm/")
                     ? "ok"
                     : "wrong");
}

// Puts of 2 MiB into a store of 8 MiB that may spill 4 MiB: past what
// memory and disk can hold, Put is an ObjectStoreFullError naming the sizes;
// what was stored before reads back whole; freeing makes room again.
// What the raylet at `address` says once its store holds no object, in
// memory or on disk (the owner deletes freed objects as their references
// go): asked again at once, paced by the call itself, a bounded number of
// times.
raycc::proto::GetNodeStatsReply StoreEmptied(const std::string& address) {
  raycc::proto::GetNodeStatsReply stats = RayletStats(address);
  for (int i = 0; i < 5000 && (stats.object_store_objects() > 0 || stats.object_store_spilled_objects() > 0);
       ++i)
    stats = RayletStats(address);
  return stats;
}

void Full(const std::string& a) {
  std::vector<raycc::ObjectRef<std::string>> kept;
  std::string error;
  for (int i = 0; i < 12 && error.empty(); ++i) {
    try {
      kept.push_back(raycc::Put(MakeBig(2, i)));
    } catch (const raycc::ObjectStoreFullError& e) {
      error = e.what();
    }
  }
  Print("stored_before_full", static_cast<long>(kept.size()));
  Print("full_error", error.empty() ? "none" : error);
  int whole = 0;
  for (size_t i = 0; i < kept.size(); ++i)
    whole += *kept[i].Get() == MakeBig(2, static_cast<int64_t>(i)) ? 1 : 0;
  Print("read_back", whole);
  kept.clear();
  StoreEmptied(a);
  std::string after = "ok";
  try {
    if (*raycc::Put(MakeBig(2, 99)).Get() != MakeBig(2, 99)) after = "wrong";
  } catch (const raycc::ObjectStoreFullError& e) {
    after = e.what();
  }
  Print("put_after_free", after);
}

// A Put into a full store waits for room: the store is filled (no wait),
// then a Put waits (up to a minute) while this driver frees an object once
// the raylet's store has refused that Put at least once.
void FullWaits(const std::string& a) {
  ::setenv("RAYCC_OBJECT_STORE_FULL_WAIT_MS", "0", 1);
  std::vector<raycc::ObjectRef<std::string>> kept;
  bool full = false;
  for (int i = 0; i < 12 && !full; ++i) {
    try {
      kept.push_back(raycc::Put(MakeBig(2, i)));
    } catch (const raycc::ObjectStoreFullError&) {
      full = true;
    }
  }
  Print("filled", full ? 1 : 0);
  if (!full || kept.empty()) return;
  ::setenv("RAYCC_OBJECT_STORE_FULL_WAIT_MS", "60000", 1);
  const uint64_t refused = RayletStats(a).object_store_creates_refused();
  std::string waited = "none";
  std::thread putter([&] {
    try {
      raycc::ObjectRef<std::string> ref = raycc::Put(MakeBig(2, 77));
      waited = *ref.Get() == MakeBig(2, 77) ? "ok" : "wrong";
    } catch (const std::exception& e) {
      waited = e.what();
    }
  });
  // Once the store has refused it, the Put is waiting (bounded: 30 s,
  // paced by the raylet's answers).
  bool was_refused = false;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!was_refused && std::chrono::steady_clock::now() < end)
    was_refused = RayletStats(a).object_store_creates_refused() > refused;
  Print("put_was_refused", was_refused ? 1 : 0);
  kept.erase(kept.begin());  // room for it
  putter.join();
  Print("put_waited", waited);
}

// A worker killed while it reads an object in the store (the raylet at
// `a`): its raylet gives the dead reader's pin back, and the object goes
// from the store when its last reference does.
void KilledReader(const std::string& a) {
  const uint64_t objects_before = RayletStats(a).object_store_objects();
  {
    raycc::ObjectRef<std::string> big = raycc::Put(MakeBig(2, 5));
    std::string outcome = "ran";
    try {
      raycc::Task(ReadsThenDies).SetMaxRetries(0).Remote(big).Get();
    } catch (const std::exception& e) {
      outcome = std::string("failed: ") + e.what();
    }
    Print("task", outcome);
    // (Bounded: 30 s, paced by the raylet's answers.)
    raycc::proto::GetNodeStatsReply stats = RayletStats(a);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (stats.object_store_pinned() != 0 && std::chrono::steady_clock::now() < end) stats = RayletStats(a);
    Print("pinned_after_death", static_cast<long>(stats.object_store_pinned()));
    Print("dead_pins_released", static_cast<long>(stats.object_store_dead_pins_released()));
    Print("read_after_death", *big.Get() == MakeBig(2, 5) ? "ok" : "wrong");
  }
  uint64_t objects = RayletStats(a).object_store_objects();
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (objects > objects_before && std::chrono::steady_clock::now() < end)
    objects = RayletStats(a).object_store_objects();
  Print("objects_left", static_cast<long>(objects - objects_before));
}

// A Put of a large value that is not a SharedArray (a std::vector<double>
// of 64 MiB) is written straight into the store (the raylet at `a`): no
// buffer of its size is made on the way, and it reads back whole.
void PutInPlace(const std::string& a) {
  std::vector<double> v(8 << 20);
  std::iota(v.begin(), v.end(), 0.5);
  const double sum = std::accumulate(v.begin(), v.end(), 0.0);
  const uint64_t objects = RayletStats(a).object_store_objects();
  g_largest_allocation = 0;
  g_track_allocations = true;
  raycc::ObjectRef<std::vector<double>> ref = raycc::Put(std::move(v));
  g_track_allocations = false;
  Print("largest_allocation_kib", static_cast<long>(g_largest_allocation.load() >> 10));
  Print("in_store", RayletStats(a).object_store_objects() == objects + 1 ? "yes" : "no");
  std::shared_ptr<std::vector<double>> back = ref.Get();
  Print("read_back", back->size() == (8u << 20) && std::accumulate(back->begin(), back->end(), 0.0) == sum
                         ? "ok"
                         : "wrong");
  // A small one stays in memory, as before.
  Print("small",
        *raycc::Put(std::vector<double>(10, 1.5)).Get() == std::vector<double>(10, 1.5) ? "ok" : "wrong");
  // A serializer that throws while it writes into the store: the Put fails
  // with its error, and the room it had is given back (nothing unsealed is
  // left behind).
  const uint64_t before_throw = RayletStats(a).object_store_objects();
  std::string thrown = "none";
  try {
    raycc::Put(ThrowsOnWrite{1 << 20});
  } catch (const std::exception& e) {
    thrown = e.what();
  }
  Print("put_throws", thrown);
  Print("put_throws_left", static_cast<long>(RayletStats(a).object_store_objects() - before_throw));
  // A task's (here an actor call's) large result goes the same way, from its
  // worker into the store.
  raycc::ActorHandle<ResultMaker> maker = raycc::Actor(ResultMaker::Create).Remote();
  const uint64_t before_result = RayletStats(a).object_store_objects();
  raycc::ObjectRef<std::vector<double>> made = maker.Task(&ResultMaker::Make).Remote(int64_t{8} << 20);
  std::shared_ptr<std::vector<double>> result = made.Get();
  Print("result_largest_allocation_kib",
        static_cast<long>(*maker.Task(&ResultMaker::Largest).Remote().Get() >> 10));
  Print("result_in_store", RayletStats(a).object_store_objects() == before_result + 1 ? "yes" : "no");
  Print("result_read_back",
        result->size() == (8u << 20) && std::accumulate(result->begin(), result->end(), 0.0) == sum
            ? "ok"
            : "wrong");
}

// A working set three times the node's store (the raylet at `a`, 8 MiB):
// the objects are spilled to disk and read back whole, by this driver and by
// a task; once freed, nothing of them is left in memory or on disk.
void Spilling(const std::string& a) {
  constexpr int kObjects = 12;  // of 2 MiB each
  {
    std::vector<raycc::ObjectRef<std::string>> refs;
    for (int i = 0; i < kObjects; ++i) refs.push_back(raycc::Put(MakeBig(2, i)));
    raycc::proto::GetNodeStatsReply after_puts = RayletStats(a);
    Print("spilled_after_puts", after_puts.object_store_spilled_objects() > 0 ? "yes" : "no");
    Print("in_store_after_puts", static_cast<long>(after_puts.object_store_objects()));
    int correct = 0;
    for (int i = 0; i < kObjects; ++i) correct += *refs[i].Get() == MakeBig(2, i) ? 1 : 0;
    Print("read_back", correct);
    // A task on the node reads a spilled one (the first, long spilled again).
    Print("task_read",
          *raycc::Task(ChecksumOf).Remote(refs[0]).Get() == ChecksumOf(MakeBig(2, 0)) ? "ok" : "wrong");
    raycc::proto::GetNodeStatsReply after_reads = RayletStats(a);
    Print("restored", after_reads.object_store_restores() >= kObjects - 3 ? "yes" : "no");
  }
  raycc::proto::GetNodeStatsReply freed = StoreEmptied(a);
  Print("left_objects", static_cast<long>(freed.object_store_objects()));
  Print("left_spilled", static_cast<long>(freed.object_store_spilled_objects()));
}

// The driver runs on node a (`a` and `b` are the raylets' addresses).
void Objects(const std::string& a, const std::string& b) {
  long b_objects_before_made = -1;
  const std::string big = MakeBig(64, 7);
  const int64_t sum = ChecksumOf(big);
  {
    // Put of a big value: into the node's store, once.
    raycc::ObjectRef<std::string> ref = raycc::Put(big);
    raycc::proto::GetNodeStatsReply after_put = RayletStats(a);
    Print("put_objects", static_cast<long>(after_put.object_store_objects()));
    Print("put_used_mib", static_cast<long>(after_put.object_store_used_bytes() >> 20));
    // A worker on the node reads it in place (one more view of the store);
    // one on another node has its raylet pull a copy from this node's first.
    Print("sum_on_a",
          *raycc::Task(ChecksumOf).SetNodeAffinity("a").Remote(ref).Get() == sum ? "ok" : "wrong");
    Print("reads_on_a",
          static_cast<long>(RayletStats(a).object_store_reads() - after_put.object_store_reads()));
    Print("sum_on_b",
          *raycc::Task(ChecksumOf).SetNodeAffinity("b").Remote(ref).Get() == sum ? "ok" : "wrong");
    raycc::proto::GetNodeStatsReply b_after = RayletStats(b);
    Print("b_objects", static_cast<long>(b_after.object_store_objects()));
    Print("b_pulled", static_cast<long>(b_after.objects_pulled()));
    Print("get", *ref.Get() == big ? "ok" : "wrong");
    // An actor on b reads another object of this driver's: a copy pulled to
    // b for an actor call, which goes with the object too.
    raycc::ObjectRef<std::string> for_actor = raycc::Put(MakeBig(8, 17));
    raycc::ActorHandle<Reader> reader = raycc::Actor(Reader::Create).SetNodeAffinity("b").Remote();
    Print("actor_on_b",
          *reader.Task(&Reader::Sum).Remote(for_actor).Get() == ChecksumOf(MakeBig(8, 17)) ? "ok" : "wrong");
    // A big result for this driver, made on its node, is written into the
    // store by the worker and read there by its owner and by later tasks.
    raycc::ObjectRef<std::string> made = raycc::Task(MakeBig).SetNodeAffinity("a").Remote(32, 3);
    const std::string expected = MakeBig(32, 3);
    Print("made_on_a", *made.Get() == expected ? "ok" : "wrong");
    Print("made_objects", static_cast<long>(RayletStats(a).object_store_objects()));
    Print("made_then_b",
          *raycc::Task(ChecksumOf).SetNodeAffinity("b").Remote(made).Get() == ChecksumOf(expected) ? "ok"
                                                                                                   : "wrong");
    // 256 MiB made by a task on a, read by a task on b: node to node, in
    // 5 MiB chunks, checked end to end.
    const uint64_t before = RayletStats(b).bytes_pulled();
    raycc::ObjectRef<std::string> large = raycc::Task(MakeBig).SetNodeAffinity("a").Remote(256, 11);
    const int64_t on_b = *raycc::Task(ChecksumOf).SetNodeAffinity("b").Remote(large).Get();
    Print("large_checksum", on_b == ChecksumOf(MakeBig(256, 11)) ? "ok" : "wrong");
    Print("large_pulled_mib", static_cast<long>((RayletStats(b).bytes_pulled() - before) >> 20));
    raycc::ObjectRef<raycc::SharedBytes> arg = raycc::Put(raycc::SharedBytes(MakeBig(16, 21)));
    // A task's SharedBytes argument is a view too, on this node and on one
    // that pulled it.
    const std::string sum = std::to_string(ChecksumOf(MakeBig(16, 21)));
    Print("arg_on_a",
          *raycc::Task(ArgInStore).SetNodeAffinity("a").Remote(arg).Get() == "yes," + sum ? "ok" : "wrong");
    Print("arg_on_b",
          *raycc::Task(ArgInStore).SetNodeAffinity("b").Remote(arg).Get() == "yes," + sum ? "ok" : "wrong");
    // A small one travels inline: the task gets its own bytes.
    raycc::ObjectRef<raycc::SharedBytes> small = raycc::Put(raycc::SharedBytes(std::string("tiny")));
    Print("arg_small", *raycc::Task(ArgInStore).SetNodeAffinity("a").Remote(small).Get() ==
                               "no," + std::to_string(ChecksumOf("tiny"))
                           ? "ok"
                           : "wrong");
    // Made on b for an owner on a: it stays in b's store (a primary copy
    // there); the owner's Get pulls a copy into a's.
    b_objects_before_made = static_cast<long>(RayletStats(b).object_store_objects());
    const long a_objects_before = static_cast<long>(RayletStats(a).object_store_objects());
    raycc::ObjectRef<std::string> made_b = raycc::Task(MakeBig).SetNodeAffinity("b").Remote(32, 5);
    if (raycc::Wait(std::vector<raycc::ObjectRef<std::string>>{made_b}, 1, 60000).ready.size() != 1)
      throw std::runtime_error("made_b did not finish");
    Print("made_b_stays_on_b",
          static_cast<long>(RayletStats(b).object_store_objects()) - b_objects_before_made);
    Print("made_on_b", *made_b.Get() == MakeBig(32, 5) ? "ok" : "wrong");
    Print("made_on_b_copied_to_a",
          static_cast<long>(RayletStats(a).object_store_objects()) - a_objects_before);
    // Get of SharedBytes on the store's node is a view into the store: the
    // bytes the driver reads lie in the shared-memory mapping, not a copy.
    {
      raycc::ObjectRef<raycc::SharedBytes> shared = raycc::Put(raycc::SharedBytes(MakeBig(64, 9)));
      std::shared_ptr<raycc::SharedBytes> got = shared.Get();
      Print("shared_in_store", InMapping(got->data(), "/dev/shm/raycc-") ? "yes" : "no");
      Print("shared_ok", got->view() == MakeBig(64, 9) ? "ok" : "wrong");
      std::shared_ptr<raycc::SharedBytes> made_shared =
          raycc::Task(MakeShared).SetNodeAffinity("a").Remote(64, 13).Get();
      Print("made_shared_in_store", InMapping(made_shared->data(), "/dev/shm/raycc-") ? "yes" : "no");
      Print("made_shared_ok", made_shared->view() == MakeBig(64, 13) ? "ok" : "wrong");
      // Made on b: it stays in b's store; Get pulls a copy to this node,
      // where it is read in place too.
      std::shared_ptr<raycc::SharedBytes> from_b =
          raycc::Task(MakeShared).SetNodeAffinity("b").Remote(1, 2).Get();
      Print("from_b_in_store", InMapping(from_b->data(), "/dev/shm/raycc-") ? "yes" : "no");
      Print("from_b_ok", from_b->view() == MakeBig(1, 2) ? "ok" : "wrong");
    }
    // A task on b borrows an object of this driver's (a reference inside a
    // value) and reads it: through its owner (the bytes come inline), so no
    // copy is left in b's store.
    raycc::ObjectRef<std::string> lent = raycc::Put(MakeBig(4, 23));
    const long b_pulls_before_borrow = static_cast<long>(RayletStats(b).objects_pulled());
    Print("borrowed_on_b",
          *raycc::Task(ChecksumOfBorrowed).SetNodeAffinity("b").Remote(std::vector{lent}).Get() ==
                  ChecksumOf(MakeBig(4, 23))
              ? "ok"
              : "wrong");
    Print("borrow_pulled_to_b", static_cast<long>(RayletStats(b).objects_pulled()) - b_pulls_before_borrow);
  }
  Print("b_pinned_after", static_cast<long>(RayletStats(b).object_store_pinned()));
  // Every reference is gone: so are the objects in the store (asked again
  // at once, paced by the call itself, a bounded number of times).
  long left = -1;
  for (int i = 0; i < 5000 && left != 0; ++i) left = static_cast<long>(RayletStats(a).object_store_objects());
  Print("freed_objects", left);
  // So are b's: the primaries made there and the copies it pulled for tasks
  // (their owner freed them there).
  long on_b = -1;
  for (int i = 0; i < 5000 && on_b != 0; ++i) on_b = static_cast<long>(RayletStats(b).object_store_objects());
  Print("b_freed_all", on_b);
  Print("b_had_before_made", b_objects_before_made);
}

// The driver runs on node b; a result made on a stays in a's store. Once
// the test has killed a's raylet, reading it fails, naming the holder,
// and nothing hangs.
void LostHolder(const std::string& dir) {
  raycc::ObjectRef<std::string> made = raycc::Task(MakeBig).SetNodeAffinity("a").Remote(16, 1);
  if (raycc::Wait(std::vector<raycc::ObjectRef<std::string>>{made}, 1, 60000).ready.size() != 1)
    throw std::runtime_error("the task on a did not finish");
  std::ofstream(dir + "/made") << "made";
  if (!WaitForFile(dir + "/go")) throw std::runtime_error("no go");
  Print("get_lost", Caught<raycc::RayccError>([&] { made.Get(60000); }));
  Print("task_lost", Caught<raycc::RayccError>(
                         [&] { raycc::Task(ChecksumOf).SetNodeAffinity("b").Remote(made).Get(60000); }));
}

void Retries(const std::string& marker) {
  Print("retried", *raycc::Task(DiesOnce).SetMaxRetries(1).Remote(marker).Get());
  Print("worker_died", Caught<raycc::WorkerDiedError>([] { raycc::Task(AlwaysDies).Remote().Get(); }));
}

}  // namespace

int main(int argc, char** argv) {
  // First: in a worker process this serves the raylet and never returns.
  raycc::Init();
  std::string scenario = argc > 1 ? argv[1] : "tasks";
  try {
    if (scenario == "tasks") {
      Tasks();
    } else if (scenario == "nested_timeline" && argc > 2) {
      NestedTimeline(argv[2]);
    } else if (scenario == "actors") {
      Actors();
    } else if (scenario == "nodes" && argc > 2) {
      Nodes(argv[2]);
    } else if (scenario == "groups" && argc > 2) {
      Groups(argv[2]);
    } else if (scenario == "across_restart" && argc > 2) {
      AcrossRestart(argv[2]);
    } else if (scenario == "idle" && argc > 2) {
      Idle(argv[2]);
    } else if (scenario == "regroup" && argc > 2) {
      Regroup(argv[2]);
    } else if (scenario == "hold" && argc > 2) {
      Hold(argv[2]);
    } else if (scenario == "ownership") {
      Ownership();
    } else if (scenario == "spill") {
      Spill();
    } else if (scenario == "retries" && argc > 2) {
      Retries(argv[2]);
    } else if (scenario == "broadcast" && argc > 6) {
      Broadcast(argv[2], {argv[3], argv[4], argv[5], argv[6]});
    } else if (scenario == "full_waits" && argc > 2) {
      FullWaits(argv[2]);
    } else if (scenario == "full" && argc > 2) {
      Full(argv[2]);
    } else if (scenario == "arrays") {
      Arrays();
    } else if (scenario == "spilling" && argc > 2) {
      Spilling(argv[2]);
    } else if (scenario == "objects" && argc > 3) {
      Objects(argv[2], argv[3]);
    } else if (scenario == "lost_holder" && argc > 2) {
      LostHolder(argv[2]);
    } else if (scenario == "killed_reader" && argc > 2) {
      KilledReader(argv[2]);
    } else if (scenario == "gpus" && argc > 2) {
      Gpus(argv[2]);
    } else if (scenario == "put_in_place" && argc > 2) {
      PutInPlace(argv[2]);
    } else {
      std::cerr
          << "usage: cluster_driver tasks | actors | spill | nodes DIR | groups DIR | ownership | hold "
             "DIR | idle DIR | retries MARKER | objects RAYLET_A RAYLET_B | lost_holder DIR | killed_reader "
             "RAYLET | put_in_place RAYLET\n";
      return 2;
    }
    // What the driver owns goes when its references do.
    Print("live_objects", static_cast<long>(raycc::internal::CurrentRuntime().LiveObjects()));
  } catch (const std::exception& e) {
    std::cerr << "cluster_driver: unexpected " << e.what() << std::endl;
    raycc::Shutdown();
    return 1;
  }
  raycc::Shutdown();
  return 0;
}
