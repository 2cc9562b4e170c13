// The node's shared-memory store: objects are written in place, sealed and
// read as views into the segment (by this process and by another one that
// maps it), unpinned secondary copies are evicted least recently used first,
// primary and pinned ones never, and a full store says so with the sizes.

#include "object_store/shared_object_store.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raycc::object_store {
namespace {

using ::testing::HasSubstr;

// A fresh folder of its own (for spill files), removed by the caller.
std::string TempDir() {
  std::string dir = (std::filesystem::temp_directory_path() / "raycc-store-test-XXXXXX").string();
  return ::mkdtemp(dir.data()) != nullptr ? dir : std::string();
}

// The files in `dir` (none when it does not exist).
size_t FilesIn(const std::string& dir) {
  std::error_code error;
  size_t n = 0;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) ++n;
  return n;
}

std::string UniqueName(const char* what) { return "raycc-test-" + std::to_string(::getpid()) + "-" + what; }

ObjectId NewId() { return *ObjectId::ForReturn(TaskId::Of(JobId::FromInt(1)), 1); }

// Creates, fills with `byte` and seals `size` bytes of `id`.
absl::Status Put(SharedObjectStore& store, const ObjectId& id, uint64_t size, char byte, bool evictable) {
  absl::StatusOr<absl::Span<char>> room = store.CreateObject(id, size, evictable);
  if (!room.ok()) return room.status();
  std::memset(room->data(), byte, room->size());
  return store.Seal(id);
}

TEST(SharedObjectStoreTest, ASealedObjectIsReadInPlaceWithoutACopy) {
  auto store = SharedObjectStore::Create(UniqueName("inplace"), 8 << 20);
  ASSERT_TRUE(store.ok()) << store.status();
  ObjectId id = NewId();
  absl::StatusOr<absl::Span<char>> room = (*store)->CreateObject(id, 1000);
  ASSERT_TRUE(room.ok()) << room.status();
  std::iota(room->begin(), room->end(), 0);
  EXPECT_FALSE((*store)->Get(id).ok()) << "not readable before it is sealed";
  ASSERT_TRUE((*store)->Seal(id).ok());
  EXPECT_EQ((*store)->Seal(id).code(), absl::StatusCode::kFailedPrecondition);
  auto view = (*store)->Get(id);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->size(), 1000u);
  EXPECT_EQ((*view)->data(), room->data()) << "the view is the bytes written, not a copy";
  EXPECT_TRUE((*store)->InSegment((*view)->data()));
  EXPECT_EQ(static_cast<unsigned char>((*view)->data()[999]), 999 % 256);
  EXPECT_EQ((*store)->Stats().pinned, 1u);
  view->reset();
  EXPECT_EQ((*store)->Stats().pinned, 0u);
  EXPECT_EQ((*store)->CreateObject(id, 10).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(SharedObjectStoreTest, APretouchedStoreWorksAsAnyOther) {
  // (Faulting every page in must keep the allocator's records intact.)
  auto store = SharedObjectStore::Create(UniqueName("pretouch"), 8 << 20, {.pretouch = true});
  ASSERT_TRUE(store.ok()) << store.status();
  ObjectId id = NewId();
  ASSERT_TRUE(Put(**store, id, 6 << 20, 'p', false).ok());
  auto view = (*store)->Get(id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ((*view)->bytes(), std::string(6 << 20, 'p'));
  EXPECT_TRUE((*store)->Delete(id).ok());
}

TEST(SharedObjectStoreTest, AnotherProcessMapsTheSegmentAndReadsTheSameBytes) {
  const std::string name = UniqueName("shared");
  auto store = SharedObjectStore::Create(name, 64 << 20);
  ASSERT_TRUE(store.ok()) << store.status();
  ObjectId id = NewId();
  constexpr uint64_t kSize = 32 << 20;
  absl::StatusOr<absl::Span<char>> room = (*store)->CreateObject(id, kSize);
  ASSERT_TRUE(room.ok());
  for (uint64_t i = 0; i < kSize; ++i) (*room)[i] = static_cast<char>(i * 7 + 3);
  ASSERT_TRUE((*store)->Seal(id).ok());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Exit codes: 0 good, 1 open failed, 2 get failed, 3 not in its mapping, 4 wrong bytes,
    // 5 its write not seen.
    auto mine = SharedObjectStore::Open(name);
    if (!mine.ok()) ::_exit(1);
    {
      auto view = (*mine)->Get(id);
      if (!view.ok()) ::_exit(2);
      if (!(*mine)->InSegment((*view)->data())) ::_exit(3);
      for (uint64_t i = 0; i < kSize; ++i)
        if ((*view)->data()[i] != static_cast<char>(i * 7 + 3)) ::_exit(4);
    }  // (its pin goes with the view)
    // And what it writes, the parent reads.
    ObjectId reply = *ObjectId::FromBinary(std::string(ObjectId::kSize, '\x42'));
    if (!Put(**mine, reply, 4096, 'r', false).ok()) ::_exit(5);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto reply = (*store)->Get(*ObjectId::FromBinary(std::string(ObjectId::kSize, '\x42')));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ((*reply)->bytes(), std::string(4096, 'r'));
  // The child's pin went with its view; `reply` is the one held now.
  EXPECT_EQ((*store)->Stats().pinned, 1u);
  EXPECT_EQ((*store)->Stats().reads, 2u);
}

TEST(SharedObjectStoreTest, UnpinnedSecondaryCopiesAreEvictedLeastRecentlyUsedFirst) {
  auto created = SharedObjectStore::Create(UniqueName("lru"), 1 << 20);
  ASSERT_TRUE(created.ok()) << created.status();
  SharedObjectStore& store = **created;
  constexpr uint64_t k = 400 << 10;
  ObjectId a = NewId(), b = NewId(), c = NewId(), d = NewId(), e = NewId();
  ASSERT_TRUE(Put(store, a, k, 'a', /*evictable=*/true).ok());
  ASSERT_TRUE(Put(store, b, k, 'b', /*evictable=*/true).ok());
  (void)store.Get(a);                                           // a is used after b
  ASSERT_TRUE(Put(store, c, k, 'c', /*evictable=*/true).ok());  // evicts b, the least recently used
  EXPECT_TRUE(store.Contains(a));
  EXPECT_FALSE(store.Contains(b));
  EXPECT_TRUE(store.Contains(c));
  auto pinned = store.Get(a);  // a is pinned now: c goes instead, though a is older
  ASSERT_TRUE(pinned.ok());
  (void)store.Get(c);
  ASSERT_TRUE(Put(store, d, k, 'd', /*evictable=*/false).ok());
  EXPECT_TRUE(store.Contains(a));
  EXPECT_FALSE(store.Contains(c));
  EXPECT_EQ(store.Stats().evictions, 2u);
  // a is pinned and d is a primary copy: nothing can go.
  absl::StatusOr<absl::Span<char>> full = store.CreateObject(e, k);
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.status().message(),
              HasSubstr("object store full: object " + e.Hex() + " needs 409600 bytes"));
  EXPECT_THAT(full.status().message(),
              HasSubstr("819200 of 1048576 bytes are in use by 2 objects (1 pinned"));
  const uint64_t evictions = store.Stats().evictions;
  absl::StatusOr<absl::Span<char>> huge = store.CreateObject(e, 2 << 20);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted) << "bigger than the store";
  EXPECT_THAT(huge.status().message(), HasSubstr("more than the store's 1048576"));
  EXPECT_EQ(store.CreateObject(e, ~uint64_t{0}).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store.Stats().evictions, evictions) << "nothing is evicted for what can never fit";
  EXPECT_EQ((*pinned)->bytes(), std::string(k, 'a')) << "a pinned object is never evicted";
}

TEST(SharedObjectStoreTest, ADeletedObjectGoesWithItsLastReader) {
  auto created = SharedObjectStore::Create(UniqueName("delete"), 1 << 20);
  ASSERT_TRUE(created.ok());
  SharedObjectStore& store = **created;
  ObjectId id = NewId();
  ASSERT_TRUE(Put(store, id, 1000, 'x', false).ok());
  auto view = store.Get(id);
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(store.Delete(id).ok());
  EXPECT_FALSE(store.Contains(id));
  EXPECT_EQ(store.Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Delete(id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*view)->bytes(), std::string(1000, 'x')) << "a reader keeps what it reads";
  EXPECT_EQ(store.Stats().used, 1000u);
  view->reset();
  EXPECT_EQ(store.Stats().used, 0u);
  EXPECT_EQ(store.Stats().objects, 0u);
  // An object never sealed can be aborted, and only that.
  ObjectId unsealed = NewId();
  ASSERT_TRUE(store.CreateObject(unsealed, 100).ok());
  EXPECT_TRUE(store.Abort(unsealed).ok());
  EXPECT_EQ(store.Stats().objects, 0u);
  // One deleted while it is written stays for its writer, and goes at Seal.
  ObjectId written = NewId();
  absl::StatusOr<absl::Span<char>> room = store.CreateObject(written, 5000);
  ASSERT_TRUE(room.ok());
  ASSERT_TRUE(store.Delete(written).ok());
  std::memset(room->data(), 'w', room->size());  // (its memory is still the writer's)
  EXPECT_EQ(store.Stats().objects, 1u);
  EXPECT_EQ(store.Seal(written).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Stats().objects, 0u);
  EXPECT_EQ(store.Stats().used, 0u);
}

// A reader killed while it holds a view, and a writer killed before it
// seals: what they held is given back once they are dead (a zombie, not yet
// reaped, counts as dead), never while they live, and the pins of the
// processes still alive stay.
TEST(SharedObjectStoreTest, WhatAKilledProcessHeldIsGivenBack) {
  const std::string name = UniqueName("dead");
  auto created = SharedObjectStore::Create(name, 1 << 20);
  ASSERT_TRUE(created.ok());
  SharedObjectStore& store = **created;
  ObjectId read = NewId(), unsealed = NewId(), mine = NewId();
  ASSERT_TRUE(Put(store, read, 1000, 'r', false).ok());
  ASSERT_TRUE(Put(store, mine, 2000, 'm', false).ok());
  auto my_view = store.Get(mine);
  ASSERT_TRUE(my_view.ok());
  int ready[2], hold[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(hold), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(hold[1]);
    auto store = SharedObjectStore::Open(name);
    if (!store.ok()) ::_exit(1);
    auto view = (*store)->Get(read);
    if (!view.ok()) ::_exit(2);
    if (!(*store)->CreateObject(unsealed, 3000).ok()) ::_exit(3);
    char byte = 'k';
    if (::write(ready[1], &byte, 1) != 1) ::_exit(4);
    (void)::read(hold[0], &byte, 1);  // (until killed: the parent never writes)
    ::_exit(5);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child did not get its view";
  ASSERT_TRUE(store.Delete(read).ok());  // (deferred: the child reads it)
  EXPECT_EQ(store.Stats().objects, 3u);
  EXPECT_EQ(store.Stats().pinned, 2u);
  EXPECT_EQ(store.ReleaseDeadProcesses(), 0) << "the child is alive";
  EXPECT_EQ(store.Stats().objects, 3u);

  ASSERT_EQ(::kill(child, SIGKILL), 0);
  // Dead once it is a zombie (it cannot run any more), reaped or not:
  // waited for without reaping it.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(store.ReleaseDeadProcesses(), 2) << "its view and its unsealed object";
  StoreStats stats = store.Stats();
  EXPECT_EQ(stats.objects, 1u) << "the deleted object went with its dead reader";
  EXPECT_EQ(stats.used, 2000u);
  EXPECT_EQ(stats.pinned, 1u) << "this process's view stays";
  EXPECT_EQ(stats.dead_pins_released, 1u);
  EXPECT_EQ(stats.dead_writes_freed, 1u);
  EXPECT_EQ(store.ReleaseDeadProcesses(), 0) << "given back once";
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ((*my_view)->bytes(), std::string(2000, 'm'));
  my_view->reset();
  EXPECT_EQ(store.Stats().pinned, 0u);
  ::close(ready[0]);
  ::close(hold[1]);
}

TEST(SharedObjectStoreTest, BadNamesAndMissingSegmentsAreClearErrors) {
  EXPECT_EQ(SharedObjectStore::Create("a/b", 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SharedObjectStore::Create(UniqueName("tiny"), 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<SharedObjectStore>> missing = SharedObjectStore::Open(UniqueName("missing"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("cannot open shared memory"));
  // The creator removes the name when it goes.
  const std::string name = UniqueName("gone");
  { ASSERT_TRUE(SharedObjectStore::Create(name, 1 << 20).ok()); }
  EXPECT_FALSE(SharedObjectStore::Open(name).ok());
}

TEST(SharedObjectStoreTest, SegmentsOfKilledRayletsAreRemovedByTheirDeadPids) {
  // A process that is gone (reaped), and a segment named for it, as a raylet
  // killed with SIGKILL leaves it.
  pid_t dead = ::fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  const std::string left = SharedObjectStore::SegmentName(dead, "deadbeef");
  const std::string spill = TempDir();
  ASSERT_FALSE(spill.empty());
  auto orphan = SharedObjectStore::Create(left, 1 << 20, {.spill_dir = spill});
  ASSERT_TRUE(orphan.ok()) << orphan.status();
  const std::string orphan_spill = (*orphan)->spill_dir();
  ASSERT_TRUE(std::filesystem::exists(orphan_spill));
  const std::string mine = SharedObjectStore::SegmentName(::getpid(), "cafe");
  auto alive = SharedObjectStore::Create(mine, 1 << 20);
  ASSERT_TRUE(alive.ok());
  EXPECT_GE(SharedObjectStore::RemoveSegmentsOfDeadRaylets(), 1);
  EXPECT_FALSE(SharedObjectStore::Open(left).ok()) << "the dead raylet's segment is gone";
  EXPECT_FALSE(std::filesystem::exists(orphan_spill)) << "and its spill folder";
  EXPECT_TRUE(SharedObjectStore::Open(mine).ok()) << "a live raylet's segment stays";
  std::filesystem::remove_all(spill);
}

// Above its capacity the store writes unpinned primary copies to disk, least
// recently used first, after the secondary copies are evicted, and a Get
// reads one back; pinned ones stay; the files go with the objects and with
// the store.
TEST(SharedObjectStoreTest, PrimaryCopiesAreSpilledToDiskAndRestoredOnGet) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  auto created = SharedObjectStore::Create(UniqueName("spill"), 1 << 20, {.spill_dir = dir});
  ASSERT_TRUE(created.ok()) << created.status();
  SharedObjectStore& store = **created;
  const std::string files = store.spill_dir();
  EXPECT_EQ(files, dir + "/" + UniqueName("spill")) << "a folder of its own";
  constexpr uint64_t k = 400 << 10;
  ObjectId a = NewId(), b = NewId(), c = NewId(), d = NewId(), e = NewId();
  ASSERT_TRUE(Put(store, a, k, 'a', false).ok());
  ASSERT_TRUE(Put(store, b, k, 'b', false).ok());
  (void)store.Get(a);                              // a is used after b
  ASSERT_TRUE(Put(store, c, k, 'c', false).ok());  // b goes to disk
  StoreStats stats = store.Stats();
  EXPECT_EQ(stats.spilled_objects, 1u);
  EXPECT_EQ(stats.spilled_bytes, k);
  EXPECT_EQ(stats.spills, 1u);
  EXPECT_EQ(stats.used, 2 * k);
  EXPECT_EQ(stats.objects, 3u);
  EXPECT_TRUE(store.Contains(b)) << "a spilled object is still the store's";
  EXPECT_EQ(store.Seal(b).code(), absl::StatusCode::kFailedPrecondition) << "sealed already (on disk)";
  EXPECT_EQ(FilesIn(files), 1u);

  // A Get brings it back (spilling a, now the least recently used).
  auto back = store.Get(b);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->bytes(), std::string(k, 'b'));
  EXPECT_TRUE(store.InSegment((*back)->data()));
  stats = store.Stats();
  EXPECT_EQ(stats.restores, 1u);
  EXPECT_EQ(stats.spills, 2u);
  EXPECT_EQ(stats.spilled_objects, 1u) << "a went out for b";
  EXPECT_EQ(FilesIn(files), 1u) << "b's file went with its restore";

  // Secondary copies go before any primary one is spilled.
  auto c_view = store.Get(c);
  ASSERT_TRUE(c_view.ok());
  c_view->reset();
  back->reset();
  ASSERT_TRUE(store.Delete(c).ok());
  ASSERT_TRUE(Put(store, e, k, 'e', /*evictable=*/true).ok());
  ASSERT_TRUE(Put(store, d, k, 'd', false).ok());
  EXPECT_EQ(store.Stats().evictions, 1u);
  EXPECT_EQ(store.Stats().spills, 2u) << "e was evicted instead";

  // Pinned objects are never spilled: with b and d pinned, nothing can go.
  auto b_view = store.Get(b), d_view = store.Get(d);
  ASSERT_TRUE(b_view.ok() && d_view.ok());
  absl::StatusOr<absl::Span<char>> full = store.CreateObject(NewId(), k);
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.status().message(), HasSubstr("1 objects (409600 bytes) are spilled, and no more can be"));
  EXPECT_THAT(full.status().message(), HasSubstr("no primary copy can be spilled"));
  // A spilled object deleted: its file goes.
  ASSERT_TRUE(store.Delete(a).ok());
  EXPECT_FALSE(store.Contains(a));
  EXPECT_EQ(store.Stats().spilled_bytes, 0u);
  EXPECT_EQ(FilesIn(files), 0u);

  // SpillAbove: down to the fraction asked, pinned objects aside.
  b_view->reset();
  EXPECT_EQ(store.SpillAbove(0.5), 1) << "b goes; d is pinned";
  EXPECT_EQ(store.Stats().used, k);
  d_view->reset();
  EXPECT_EQ(store.SpillAbove(0.0), 1);
  EXPECT_EQ(store.Stats().used, 0u);
  EXPECT_EQ(FilesIn(files), 2u);
  auto d_back = store.Get(d);
  ASSERT_TRUE(d_back.ok());
  EXPECT_EQ((*d_back)->bytes(), std::string(k, 'd'));
  d_back->reset();
  // The store's files go with it.
  created->reset();
  EXPECT_FALSE(std::filesystem::exists(files));
  std::filesystem::remove_all(dir);
}

// Spilling ahead of need (SpillAbove) writes its files outside the store's
// lock: while a file is being written (here into a FIFO, which blocks the
// writer until this test reads it), the store's other calls go on. A reader
// that comes meanwhile keeps the object in memory; one that does not lets
// it go to disk.
TEST(SharedObjectStoreTest, SpillingAheadOfNeedDoesNotStopTheStore) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  auto created = SharedObjectStore::Create(UniqueName("slowspill"), 1 << 20, {.spill_dir = dir});
  ASSERT_TRUE(created.ok()) << created.status();
  SharedObjectStore& store = **created;
  constexpr uint64_t k = 100 << 10;
  ObjectId a = NewId(), b = NewId();
  ASSERT_TRUE(Put(store, a, k, 'a', false).ok());
  ASSERT_TRUE(Put(store, b, k, 'b', false).ok());  // (a is the least recently used)
  // Each spill file is written as "<name>.part" first: make a's and b's FIFOs.
  const std::string a_part = store.spill_dir() + "/" + a.Hex() + ".part";
  const std::string b_part = store.spill_dir() + "/" + b.Hex() + ".part";
  ASSERT_EQ(::mkfifo(a_part.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo(b_part.c_str(), 0600), 0);
  // Reads a FIFO whole (until its writer closes it).
  auto drain = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };

  // a: the spiller blocks writing it; the store serves meanwhile.
  std::future<int> spiller = std::async(std::launch::async, [&] { return store.SpillAbove(0.15); });
  // Once the spiller has chosen a (pinned it), the store serves: b is
  // read, c made and deleted. (In a thread: a store that waited for the
  // spill file would block it; bounded.)
  std::future<bool> others = std::async(std::launch::async, [&] {
    bool chosen = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!chosen && std::chrono::steady_clock::now() < deadline) chosen = store.Stats().pinned == 1;
    ObjectId c = NewId();
    auto b_view = store.Get(b);
    return chosen && b_view.ok() && (*b_view)->bytes() == std::string(k, 'b') &&
           Put(store, c, k, 'c', false).ok() && store.Delete(c).ok() && store.Stats().objects == 2;
  });
  if (others.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "the store waited for a spill file";
    drain(a_part);  // (unblocks the spiller, then the rest)
    return;
  }
  ASSERT_TRUE(others.get()) << "the spiller never chose a, or the store answered wrong";
  // A reader of a comes while its file is written: a stays in memory.
  auto a_view = store.Get(a);
  ASSERT_TRUE(a_view.ok());
  EXPECT_EQ(drain(a_part), std::string(k, 'a')) << "the spill file got a's bytes";
  // Then b is chosen (the store is still above 15%), and goes to disk.
  EXPECT_EQ(drain(b_part), std::string(k, 'b'));
  EXPECT_EQ(spiller.get(), 1) << "b spilled; a kept for its reader";
  StoreStats stats = store.Stats();
  EXPECT_EQ(stats.spilled_objects, 1u);
  EXPECT_EQ(stats.spilled_bytes, k);
  EXPECT_EQ(stats.used, k) << "a, in memory";
  EXPECT_EQ((*a_view)->bytes(), std::string(k, 'a'));
  EXPECT_FALSE(std::filesystem::exists(store.spill_dir() + "/" + a.Hex())) << "a's file went";
  // (b's "file" is the FIFO renamed; deleting b removes it.)
  ASSERT_TRUE(store.Delete(b).ok());
  EXPECT_EQ(store.Stats().spilled_bytes, 0u);
  a_view->reset();
  created->reset();
  std::filesystem::remove_all(dir);
}

// Objects of one size go out and come back through one another's holes:
// a freed block fits the next object of its size (an aligned allocation
// would not, and the segment would fragment until nothing fit).
TEST(SharedObjectStoreTest, ObjectsOfOneSizeReuseEachOthersHoles) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  auto created =
      SharedObjectStore::Create(UniqueName("holes"), 8 << 20, {.spill_dir = dir, .spill_max_bytes = 4 << 20});
  ASSERT_TRUE(created.ok()) << created.status();
  SharedObjectStore& store = **created;
  constexpr uint64_t k = (2 << 20) + 5;  // (as a 2 MiB string's msgpack form)
  std::vector<ObjectId> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(NewId());
    ASSERT_TRUE(Put(store, ids.back(), k, static_cast<char>('a' + i), false).ok()) << i;
  }
  EXPECT_EQ(store.Stats().spilled_objects, 1u) << "three fit in memory, one on disk";
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < ids.size(); ++i) {
      auto view = store.Get(ids[i]);
      ASSERT_TRUE(view.ok()) << "round " << round << ", object " << i << ": " << view.status();
      EXPECT_EQ((*view)->bytes(), std::string(k, static_cast<char>('a' + i)));
      EXPECT_EQ(reinterpret_cast<uintptr_t>((*view)->data()) % 64, 0u) << "on a cache line";
    }
  }
  EXPECT_GE(store.Stats().restores, 9u);
  created->reset();
  std::filesystem::remove_all(dir);
}

// Spilling that cannot happen (its limit, a disk that refuses the file)
// leaves the object where it was and says why in the "full" error.
TEST(SharedObjectStoreTest, SpillingThatCannotHappenIsACleanFullError) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  constexpr uint64_t k = 400 << 10;
  {
    auto created = SharedObjectStore::Create(UniqueName("limit"), 1 << 20,
                                             {.spill_dir = dir, .spill_max_bytes = 500 << 10});
    ASSERT_TRUE(created.ok()) << created.status();
    SharedObjectStore& store = **created;
    ObjectId a = NewId(), b = NewId(), c = NewId();
    ASSERT_TRUE(Put(store, a, k, 'a', false).ok());
    ASSERT_TRUE(Put(store, b, k, 'b', false).ok());
    ASSERT_TRUE(Put(store, c, k, 'c', false).ok());  // a: 400 KiB on disk
    absl::StatusOr<absl::Span<char>> over = store.CreateObject(NewId(), k);
    EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(over.status().message(),
                HasSubstr("would pass the limit of 512000 bytes on disk (409600 spilled)"));
    for (const auto& [id, byte] : {std::pair{a, 'a'}, {b, 'b'}, {c, 'c'}}) {
      auto view = store.Get(id);
      ASSERT_TRUE(view.ok()) << view.status();
      EXPECT_EQ((*view)->bytes(), std::string(k, byte)) << "nothing is lost";
    }
  }
  {
    auto created = SharedObjectStore::Create(UniqueName("nodisk"), 1 << 20, {.spill_dir = dir});
    ASSERT_TRUE(created.ok()) << created.status();
    SharedObjectStore& store = **created;
    std::filesystem::remove_all(store.spill_dir());  // (the disk refuses every file)
    ObjectId a = NewId(), b = NewId();
    ASSERT_TRUE(Put(store, a, k, 'a', false).ok());
    ASSERT_TRUE(Put(store, b, k, 'b', false).ok());
    absl::StatusOr<absl::Span<char>> refused = store.CreateObject(NewId(), k);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(refused.status().message(), HasSubstr("cannot create " + store.spill_dir()));
    auto view = store.Get(a);
    ASSERT_TRUE(view.ok());
    EXPECT_EQ((*view)->bytes(), std::string(k, 'a'));
    EXPECT_EQ(store.Stats().spilled_objects, 0u);
  }
  // A spill folder that cannot be made is refused at creation.
  std::ofstream(dir + "/file") << "x";
  auto bad = SharedObjectStore::Create(UniqueName("badspill"), 1 << 20, {.spill_dir = dir + "/file"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("cannot make the spill folder"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace raycc::object_store
