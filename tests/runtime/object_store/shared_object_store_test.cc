// The node's shared-memory store: objects are written in place, sealed and
// read as views into the segment (by this process and by another one that
// maps it), unpinned secondary copies are evicted least recently used first,
// primary and pinned ones never, and a full store says so with the sizes.

#include "object_store/shared_object_store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raycc::object_store {
namespace {

using ::testing::HasSubstr;

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
  auto store = SharedObjectStore::Create(UniqueName("pretouch"), 8 << 20, /*pretouch=*/true);
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
  auto orphan = SharedObjectStore::Create(left, 1 << 20);
  ASSERT_TRUE(orphan.ok()) << orphan.status();
  const std::string mine = SharedObjectStore::SegmentName(::getpid(), "cafe");
  auto alive = SharedObjectStore::Create(mine, 1 << 20);
  ASSERT_TRUE(alive.ok());
  EXPECT_GE(SharedObjectStore::RemoveSegmentsOfDeadRaylets(), 1);
  EXPECT_FALSE(SharedObjectStore::Open(left).ok()) << "the dead raylet's segment is gone";
  EXPECT_TRUE(SharedObjectStore::Open(mine).ok()) << "a live raylet's segment stays";
}

}  // namespace
}  // namespace raycc::object_store
