#include "object_store/shared_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "boost/interprocess/allocators/allocator.hpp"
#include "boost/interprocess/containers/map.hpp"
#include "boost/interprocess/indexes/iset_index.hpp"
#include "boost/interprocess/managed_shared_memory.hpp"
#include "boost/interprocess/mem_algo/rbtree_best_fit.hpp"
#include "boost/interprocess/shared_memory_object.hpp"
#include "boost/interprocess/sync/mutex_family.hpp"

namespace raycc::object_store {
namespace bip = boost::interprocess;
namespace {

// The managed segment's own allocator lock is not robust (a process killed
// holding it would hang every other one): it has none here, since every
// allocation and free happens under the store's robust mutex (Header::mu).
// Named objects (the header and the index) are made once, by the creator,
// before any other process maps the segment.
using Segment =
    bip::basic_managed_shared_memory<char, bip::rbtree_best_fit<bip::null_mutex_family>, bip::iset_index>;
using Key = std::array<unsigned char, ObjectId::kSize>;

Key KeyOf(const ObjectId& id) {
  Key key;
  std::string binary = id.Binary();
  std::memcpy(key.data(), binary.data(), key.size());
  return key;
}

enum State : uint8_t { kCreated = 0, kSealed = 1, kSpilled = 2 };

struct Entry {
  // The allocated block (none while spilled), and where in it the bytes
  // start (aligned: see Allocate).
  Segment::handle_t data = 0;
  uint16_t offset = 0;
  uint64_t size = 0;
  uint64_t last_use = 0;  // the store's clock at the last create or get
  uint32_t pins = 0;
  int32_t writer = 0;  // the process that created it (while kCreated: a dead one's write is freed)
  State state = kCreated;
  bool evictable = false;
  bool deleted = false;  // freed once the last pin goes
};

using IndexAllocator = bip::allocator<std::pair<const Key, Entry>, Segment::segment_manager>;
using Index = bip::map<Key, Entry, std::less<Key>, IndexAllocator>;

// Who pins what: (process id, object) -> views that process holds, so that
// the pins of a process that died holding views can be given back
// (ReleaseDeadProcesses); an Entry's `pins` is the sum over processes.
using PinKey = std::pair<int32_t, Key>;
using PinAllocator = bip::allocator<std::pair<const PinKey, uint32_t>, Segment::segment_manager>;
using Pins = bip::map<PinKey, uint32_t, std::less<PinKey>, PinAllocator>;

// A process-shared, robust mutex: a process killed while it holds it hands
// it to the next locker (EOWNERDEAD) instead of hanging everyone. The
// index is as the dead process left it: the sections below are short and
// run no user code, but one cut off midway is not undone.
struct SharedMutex {
  pthread_mutex_t mu;
  SharedMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&mu, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  void lock() {
    if (pthread_mutex_lock(&mu) == EOWNERDEAD) pthread_mutex_consistent(&mu);
  }
  void unlock() { pthread_mutex_unlock(&mu); }
};

// What the segment holds besides the objects, found by name by every process.
struct Header {
  SharedMutex mu;
  uint64_t capacity = 0;
  uint64_t used = 0;
  uint64_t clock = 0;
  uint64_t evictions = 0;
  uint64_t reads = 0;
  // Spilling: the store's own folder (empty: off), its limit, and counts.
  char spill_dir[512] = {};
  uint64_t spill_max_bytes = 0;
  uint64_t spilled_bytes = 0;
  uint64_t spills = 0;
  uint64_t restores = 0;
  uint64_t creates_refused = 0;
  uint64_t dead_pins_released = 0;
  uint64_t dead_writes_freed = 0;
};

constexpr const char* kHeaderName = "raycc.header";
constexpr const char* kIndexName = "raycc.index";
constexpr const char* kPinsName = "raycc.pins";
// Objects start on cache lines (and vector loads of their contents are aligned).
constexpr size_t kAlignment = 64;
// The managed segment's own bookkeeping (its directory, the index's nodes,
// each allocation's header) on top of the objects' bytes.
constexpr uint64_t kOverheadBytes = 4 << 20;

std::string ErrnoText(int error) { return std::string(std::strerror(error)); }

// Writes `size` bytes to `path` whole (through a temporary name, so a file
// of that name is always complete).
absl::Status WriteFile(const std::string& path, const char* data, uint64_t size) {
  const std::string part = path + ".part";
  int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ResourceExhaustedError("cannot create " + part + ": " + ErrnoText(errno));
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, std::min<uint64_t>(size - done, 1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(part.c_str());
      return absl::ResourceExhaustedError(absl::StrCat("cannot write ", path, " (", done, " of ", size,
                                                       " bytes written): ", ErrnoText(error)));
    }
    done += static_cast<uint64_t>(n);
  }
  if (::close(fd) != 0 || ::rename(part.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(part.c_str());
    return absl::ResourceExhaustedError("cannot write " + path + ": " + ErrnoText(error));
  }
  return absl::OkStatus();
}

// Reads exactly `size` bytes of `path` into `out`.
absl::Status ReadFile(const std::string& path, char* out, uint64_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::DataLossError("cannot open " + path + ": " + ErrnoText(errno));
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, out + done, std::min<uint64_t>(size - done, 1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      return absl::DataLossError(absl::StrCat(
          "cannot read ", path, ": ",
          n == 0 ? absl::StrCat("it ends after ", done, " of ", size, " bytes") : ErrnoText(error)));
    }
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return absl::OkStatus();
}

// Whether process `pid` is alive (a zombie, killed and not yet reaped by
// its parent, is not: it holds nothing any more). Unknown: alive.
bool ProcessAlive(int32_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // "pid (comm) S ...": the state follows the last ')' (comm may hold one).
  auto zombie = [](const std::string& stat_path) {
    std::ifstream stat(stat_path);
    std::string line;
    if (!std::getline(stat, line)) return false;
    const size_t close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
  };
  if (!zombie(absl::StrCat("/proc/", pid, "/stat"))) return true;
  // Its main thread ended; the process lives while another thread does.
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), error)) {
    if (!zombie(task.path().string() + "/stat")) return true;
  }
  return false;
}

// Faults every page of [base, base + size) in, writable, keeping what is
// there (the allocator's own records live in the segment).
void Pretouch(void* base, size_t size) {
#ifdef MADV_POPULATE_WRITE
  if (::madvise(base, size, MADV_POPULATE_WRITE) == 0) return;
#endif
  // (An older kernel: a read and a write of one byte per page.)
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  auto* bytes = static_cast<volatile char*>(base);
  for (size_t at = 0; at < size; at += page) bytes[at] = bytes[at];
}

}  // namespace

struct SharedObjectStore::Impl {
  Segment segment;
  Header* header = nullptr;
  Index* index = nullptr;
  Pins* pins = nullptr;

  explicit Impl(Segment s) : segment(std::move(s)) {}

  void* Block(const Entry& e) { return segment.get_address_from_handle(e.data); }
  char* Address(const Entry& e) { return static_cast<char*>(Block(e)) + e.offset; }
  // The object's bytes start on a cache line. The block is allocated with
  // room to align inside it rather than with the allocator's aligned
  // allocation, which needs more than the block it leaves when freed: a
  // freed object's hole then fits the next object of its size (objects of
  // one size would otherwise fragment the segment until nothing fits).
  void* Allocate(uint64_t size) {
    return segment.allocate(std::max<uint64_t>(size, 1) + kAlignment, std::nothrow);
  }
  static uint16_t OffsetIn(const void* block) {
    const auto at = reinterpret_cast<uintptr_t>(block);
    return static_cast<uint16_t>((kAlignment - at % kAlignment) % kAlignment);
  }
  void Free(Index::iterator it) {
    segment.deallocate(Block(it->second));
    header->used -= it->second.size;
    index->erase(it);
  }
  // Gives back one view of `key` that process `pid` held (given back
  // already when the process was found dead: see ReleaseDeadProcesses).
  void Unpin(int32_t pid, const Key& key) {
    std::lock_guard<SharedMutex> lock(header->mu);
    auto held = pins->find(PinKey(pid, key));
    if (held == pins->end()) return;
    if (--held->second == 0) pins->erase(held);
    auto it = index->find(key);
    if (it == index->end() || it->second.pins == 0) return;
    if (--it->second.pins == 0 && it->second.deleted) Free(it);
  }
  std::string SpillPath(const Key& key) const {
    return absl::StrCat(
        header->spill_dir, "/",
        absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(key.data()), key.size())));
  }
  // Writes the least recently used unpinned primary copy to its spill file
  // and frees its memory. NotFound when none can be (spilling is off, or
  // every primary copy in memory is pinned or being written); another
  // error says why the one chosen could not be.
  // `credit`: bytes on disk about to go (a restore's own file), which the
  // limit does not count.
  absl::Status SpillOne(uint64_t credit = 0) {
    absl::StatusOr<Index::iterator> victim = SpillVictim(credit);
    if (!victim.ok()) return victim.status();
    Entry& e = (*victim)->second;
    if (absl::Status written = WriteFile(SpillPath((*victim)->first), Address(e), e.size); !written.ok())
      return written;
    header->spilled_bytes += e.size;
    FinishSpill(e);
    return absl::OkStatus();
  }
  // The least recently used primary copy in memory that may be spilled
  // (sealed, unpinned, not deleted): NotFound when there is none (or
  // spilling is off), ResourceExhausted when its bytes would pass the
  // limit on disk.
  absl::StatusOr<Index::iterator> SpillVictim(uint64_t credit) {
    if (header->spill_dir[0] == '\0') return absl::NotFoundError("spilling is off");
    auto victim = index->end();
    for (auto it = index->begin(); it != index->end(); ++it) {
      const Entry& e = it->second;
      if (e.state != kSealed || e.evictable || e.pins > 0 || e.deleted) continue;
      if (victim == index->end() || e.last_use < victim->second.last_use) victim = it;
    }
    if (victim == index->end())
      return absl::NotFoundError(
          "no primary copy can be spilled (each is pinned by a reader or being written)");
    const Entry& e = victim->second;
    if (header->spill_max_bytes > 0 && header->spilled_bytes - credit + e.size > header->spill_max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("spilling ", e.size, " more bytes would pass the limit of ", header->spill_max_bytes,
                       " bytes on disk (", header->spilled_bytes, " spilled)"));
    }
    return victim;
  }
  // Frees the memory of an object whose spill file is written (its bytes
  // counted in spilled_bytes already).
  void FinishSpill(Entry& e) {
    // The entry says "spilled" before its memory goes: a process killed in
    // between leaks the block, never leaves an entry pointing at freed memory.
    void* block = Block(e);
    e.data = 0;
    e.offset = 0;
    e.state = kSpilled;
    header->used -= e.size;
    ++header->spills;
    segment.deallocate(block);
  }
  // A block for `size` bytes (Allocate): evicts secondary copies, then
  // spills primary ones, as needed; "object store full", naming the sizes,
  // when neither makes room.
  absl::StatusOr<void*> MakeRoom(const ObjectId& id, uint64_t size, uint64_t credit = 0) {
    for (;;) {
      if (size <= header->capacity - header->used) {
        if (void* block = Allocate(size)) return block;
      }
      if (EvictOne()) continue;
      absl::Status spilled = SpillOne(credit);
      if (spilled.ok()) continue;
      StoreStats stats = StatsLocked();
      return absl::ResourceExhaustedError(absl::StrCat(
          "object store full: object ", id.Hex(), " needs ", size, " bytes; ", stats.used, " of ",
          stats.capacity, " bytes are in use by ", stats.objects - stats.spilled_objects, " objects (",
          stats.pinned, " pinned by readers; primary copies stay until their owners free them); ",
          header->spill_dir[0] == '\0'
              ? std::string("spilling is off")
              : absl::StrCat(stats.spilled_objects, " objects (", stats.spilled_bytes,
                             " bytes) are spilled, and no more can be: ", spilled.message())));
    }
  }
  // Reads a spilled object back into memory (a primary copy again).
  absl::Status Restore(const ObjectId& id, Entry& e, const Key& key) {
    absl::StatusOr<void*> block = MakeRoom(id, e.size, /*credit=*/e.size);
    if (!block.ok()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot restore spilled object ", id.Hex(), ": ", block.status().message()));
    }
    const std::string path = SpillPath(key);
    const uint16_t offset = OffsetIn(*block);
    if (absl::Status read = ReadFile(path, static_cast<char*>(*block) + offset, e.size); !read.ok()) {
      segment.deallocate(*block);
      return absl::DataLossError(absl::StrCat("spilled object ", id.Hex(), " is lost: ", read.message()));
    }
    // The entry is back in memory before its file goes: a process killed in
    // between leaves a file behind, never an entry whose bytes are nowhere.
    e.data = segment.get_handle_from_address(*block);
    e.offset = offset;
    e.state = kSealed;
    header->used += e.size;
    header->spilled_bytes -= e.size;
    ++header->restores;
    ::unlink(path.c_str());
    return absl::OkStatus();
  }
  // Evicts the least recently used unpinned secondary copy; false when none is left.
  bool EvictOne() {
    auto victim = index->end();
    for (auto it = index->begin(); it != index->end(); ++it) {
      const Entry& e = it->second;
      if (e.state != kSealed || !e.evictable || e.pins > 0 || e.deleted) continue;
      if (victim == index->end() || e.last_use < victim->second.last_use) victim = it;
    }
    if (victim == index->end()) return false;
    Free(victim);
    ++header->evictions;
    return true;
  }
  StoreStats StatsLocked() const {
    StoreStats stats{.capacity = header->capacity,
                     .used = header->used,
                     .evictions = header->evictions,
                     .reads = header->reads,
                     .spilled_bytes = header->spilled_bytes,
                     .spills = header->spills,
                     .restores = header->restores,
                     .creates_refused = header->creates_refused,
                     .dead_pins_released = header->dead_pins_released,
                     .dead_writes_freed = header->dead_writes_freed};
    for (const auto& [key, e] : *index) {
      ++stats.objects;
      if (e.pins > 0) ++stats.pinned;
      if (e.state == kSpilled) ++stats.spilled_objects;
    }
    return stats;
  }
};

SharedObjectStore::SharedObjectStore(std::shared_ptr<Impl> impl, std::string name, bool owner)
    : impl_(std::move(impl)), name_(std::move(name)), owner_(owner) {}

SharedObjectStore::~SharedObjectStore() {
  // (Views still alive keep this process's mapping; the name goes now.)
  if (owner_) {
    if (impl_->header->spill_dir[0] != '\0') {
      std::error_code ignored;
      std::filesystem::remove_all(impl_->header->spill_dir, ignored);
    }
    bip::shared_memory_object::remove(name_.c_str());
  }
}

absl::StatusOr<std::unique_ptr<SharedObjectStore>> SharedObjectStore::Create(const std::string& name,
                                                                             uint64_t capacity,
                                                                             const StoreOptions& options) {
  if (name.empty() || name.find('/') != std::string::npos)
    return absl::InvalidArgumentError("object store: a segment name has no '/': '" + name + "'");
  if (capacity < (1 << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("object store: ", capacity, " bytes is too small (at least 1 MiB)"));
  }
  std::string spill_dir;
  if (!options.spill_dir.empty()) {
    spill_dir = options.spill_dir + "/" + name;
    if (spill_dir.size() >= sizeof(Header::spill_dir))
      return absl::InvalidArgumentError("object store: the spill folder's path is too long: " + spill_dir);
    std::error_code error;
    std::filesystem::remove_all(spill_dir, error);  // (a stale one of the same name)
    if (!std::filesystem::create_directories(spill_dir, error) && error) {
      return absl::InvalidArgumentError(
          absl::StrCat("object store: cannot make the spill folder ", spill_dir, ": ", error.message()));
    }
  }
  bip::shared_memory_object::remove(name.c_str());  // (a stale one of a dead raylet)
  try {
    auto impl = std::make_shared<Impl>(Segment(bip::create_only, name.c_str(), capacity + kOverheadBytes));
    impl->header = impl->segment.construct<Header>(kHeaderName)();
    impl->header->capacity = capacity;
    std::memcpy(impl->header->spill_dir, spill_dir.data(), spill_dir.size());
    impl->header->spill_max_bytes = options.spill_max_bytes;
    impl->index = impl->segment.construct<Index>(kIndexName)(impl->segment.get_segment_manager());
    impl->pins = impl->segment.construct<Pins>(kPinsName)(impl->segment.get_segment_manager());
    if (options.pretouch) Pretouch(impl->segment.get_address(), impl->segment.get_size());
    return std::unique_ptr<SharedObjectStore>(new SharedObjectStore(std::move(impl), name, /*owner=*/true));
  } catch (const bip::interprocess_exception& e) {
    bip::shared_memory_object::remove(name.c_str());
    if (!spill_dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(spill_dir, ignored);
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("object store: cannot create shared memory '", name, "' of ", capacity,
                     " bytes: ", e.what(), " (is /dev/shm large enough? set --object-store-memory lower)"));
  }
}

std::string SharedObjectStore::SegmentName(int pid, const std::string& node) {
  return absl::StrCat("raycc-", pid, "-", node);
}

int SharedObjectStore::RemoveSegmentsOfDeadRaylets() {
  int removed = 0;
  DIR* dir = ::opendir("/dev/shm");
  if (dir == nullptr) return 0;
  while (dirent* entry = ::readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (!absl::ConsumePrefix(&name, "raycc-")) continue;
    int pid = 0;
    size_t dash = name.find('-');
    if (dash == absl::string_view::npos || !absl::SimpleAtoi(name.substr(0, dash), &pid) || pid <= 0)
      continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // (alive, or not ours to judge)
    // (Its spill folder is named in its header.)
    if (absl::StatusOr<std::unique_ptr<SharedObjectStore>> dead = Open(entry->d_name); dead.ok()) {
      if (std::string spill = (*dead)->spill_dir(); !spill.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(spill, ignored);
      }
    }
    if (bip::shared_memory_object::remove(entry->d_name)) ++removed;
  }
  ::closedir(dir);
  return removed;
}

absl::StatusOr<std::unique_ptr<SharedObjectStore>> SharedObjectStore::Open(const std::string& name) {
  try {
    auto impl = std::make_shared<Impl>(Segment(bip::open_only, name.c_str()));
    impl->header = impl->segment.find<Header>(kHeaderName).first;
    impl->index = impl->segment.find<Index>(kIndexName).first;
    impl->pins = impl->segment.find<Pins>(kPinsName).first;
    if (impl->header == nullptr || impl->index == nullptr || impl->pins == nullptr)
      return absl::DataLossError("object store: '" + name + "' is not a raycc object store");
    return std::unique_ptr<SharedObjectStore>(new SharedObjectStore(std::move(impl), name, /*owner=*/false));
  } catch (const bip::interprocess_exception& e) {
    return absl::NotFoundError(
        absl::StrCat("object store: cannot open shared memory '", name, "': ", e.what()));
  }
}

absl::StatusOr<absl::Span<char>> SharedObjectStore::CreateObject(const ObjectId& id, uint64_t size,
                                                                 bool evictable) {
  Impl& s = *impl_;
  Key key = KeyOf(id);
  std::lock_guard<SharedMutex> lock(s.header->mu);
  if (s.index->count(key) > 0)
    return absl::AlreadyExistsError("object store: object " + id.Hex() + " exists already");
  if (size > s.header->capacity) {
    return absl::ResourceExhaustedError(absl::StrCat("object store full: object ", id.Hex(), " needs ", size,
                                                     " bytes, more than the store's ", s.header->capacity));
  }
  absl::StatusOr<void*> room = s.MakeRoom(id, size);
  if (!room.ok()) {
    ++s.header->creates_refused;
    return room.status();
  }
  void* block = *room;
  char* data = static_cast<char*>(block) + Impl::OffsetIn(block);
  try {
    Entry entry{.data = s.segment.get_handle_from_address(block),
                .offset = Impl::OffsetIn(block),
                .size = size,
                .last_use = ++s.header->clock,
                .writer = static_cast<int32_t>(::getpid()),
                .evictable = evictable};
    s.index->emplace(key, entry);
  } catch (const bip::bad_alloc&) {  // (no room left for the index node itself)
    s.segment.deallocate(block);
    return absl::ResourceExhaustedError("object store full: no room to index object " + id.Hex());
  }
  s.header->used += size;
  return absl::Span<char>(data, size);
}

absl::Status SharedObjectStore::Seal(const ObjectId& id) {
  Impl& s = *impl_;
  std::lock_guard<SharedMutex> lock(s.header->mu);
  auto it = s.index->find(KeyOf(id));
  if (it == s.index->end()) return absl::NotFoundError("object store: no object " + id.Hex() + " to seal");
  if (it->second.state != kCreated)
    return absl::FailedPreconditionError("object store: object " + id.Hex() + " is sealed already");
  if (it->second.deleted) {  // (deleted while it was written: it goes now)
    s.Free(it);
    return absl::NotFoundError("object store: object " + id.Hex() + " was deleted while it was written");
  }
  it->second.state = kSealed;
  return absl::OkStatus();
}

absl::Status SharedObjectStore::Abort(const ObjectId& id) {
  Impl& s = *impl_;
  std::lock_guard<SharedMutex> lock(s.header->mu);
  auto it = s.index->find(KeyOf(id));
  if (it == s.index->end() || it->second.state != kCreated)
    return absl::NotFoundError("object store: no unsealed object " + id.Hex());
  s.Free(it);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const ObjectView>> SharedObjectStore::Get(const ObjectId& id) {
  std::shared_ptr<Impl> s = impl_;
  Key key = KeyOf(id);
  const char* data = nullptr;
  uint64_t size = 0;
  const auto pid = static_cast<int32_t>(::getpid());
  {
    std::lock_guard<SharedMutex> lock(s->header->mu);
    auto it = s->index->find(key);
    if (it != s->index->end() && it->second.state == kSpilled) {
      if (absl::Status restored = s->Restore(id, it->second, key); !restored.ok()) return restored;
    }
    if (it == s->index->end() || it->second.state != kSealed || it->second.deleted)
      return absl::NotFoundError("object store: no sealed object " + id.Hex());
    try {
      ++(*s->pins)[PinKey(pid, key)];
    } catch (const bip::bad_alloc&) {  // (no room left for the record itself)
      return absl::ResourceExhaustedError("object store full: no room to record a reader of object " +
                                          id.Hex());
    }
    ++it->second.pins;
    ++s->header->reads;
    it->second.last_use = ++s->header->clock;
    data = s->Address(it->second);
    size = it->second.size;
  }
  return std::shared_ptr<const ObjectView>(new ObjectView(data, size), [s, pid, key](const ObjectView* view) {
    s->Unpin(pid, key);
    delete view;
  });
}

bool SharedObjectStore::Contains(const ObjectId& id) {
  Impl& s = *impl_;
  std::lock_guard<SharedMutex> lock(s.header->mu);
  auto it = s.index->find(KeyOf(id));
  return it != s.index->end() && (it->second.state == kSealed || it->second.state == kSpilled) &&
         !it->second.deleted;
}

absl::Status SharedObjectStore::Delete(const ObjectId& id) {
  Impl& s = *impl_;
  std::lock_guard<SharedMutex> lock(s.header->mu);
  auto it = s.index->find(KeyOf(id));
  if (it == s.index->end() || it->second.deleted)
    return absl::NotFoundError("object store: no object " + id.Hex() + " to delete");
  if (it->second.state == kSpilled) {
    ::unlink(s.SpillPath(it->first).c_str());
    s.header->spilled_bytes -= it->second.size;
    s.index->erase(it);
    return absl::OkStatus();
  }
  if (it->second.pins > 0 || it->second.state == kCreated) {
    it->second.deleted = true;  // (freed by the last Unpin, or by its writer's Seal or Abort)
  } else {
    s.Free(it);
  }
  return absl::OkStatus();
}

int SharedObjectStore::ReleaseDeadProcesses() {
  Impl& s = *impl_;
  std::lock_guard<SharedMutex> lock(s.header->mu);
  absl::flat_hash_map<int32_t, bool> alive;  // (each process looked at once)
  auto dead = [&](int32_t pid) {
    auto [at, added] = alive.try_emplace(pid, true);
    if (added) at->second = ProcessAlive(pid);
    return !at->second;
  };
  uint64_t released = 0, freed = 0;
  for (auto held = s.pins->begin(); held != s.pins->end();) {
    if (!dead(held->first.first)) {
      ++held;
      continue;
    }
    auto it = s.index->find(held->first.second);
    if (it != s.index->end()) {
      it->second.pins -= std::min(it->second.pins, held->second);
      released += held->second;
      if (it->second.pins == 0 && it->second.deleted) s.Free(it);
    }
    held = s.pins->erase(held);
  }
  for (auto it = s.index->begin(); it != s.index->end();) {
    auto next = std::next(it);
    if (it->second.state == kCreated && it->second.writer > 0 && dead(it->second.writer)) {
      s.Free(it);  // (never sealed: nobody can read it, nobody will finish it)
      ++freed;
    }
    it = next;
  }
  s.header->dead_pins_released += released;
  s.header->dead_writes_freed += freed;
  return static_cast<int>(released + freed);
}

int SharedObjectStore::SpillAbove(double fraction) {
  Impl& s = *impl_;
  int spilled = 0;
  // (Bounded: a victim a reader takes meanwhile is skipped, and readers
  // could keep coming.)
  for (int tries = 0; tries < 100000; ++tries) {
    Key key;
    const char* data = nullptr;
    uint64_t size = 0;
    std::string path;
    {
      std::lock_guard<SharedMutex> lock(s.header->mu);
      if (static_cast<double>(s.header->used) <= fraction * static_cast<double>(s.header->capacity)) break;
      absl::StatusOr<Index::iterator> victim = s.SpillVictim(0);
      if (!victim.ok()) break;
      Entry& e = (*victim)->second;
      // Pinned while its file is written, outside the lock (the node's
      // other store calls go on meanwhile): it is neither freed nor spilled
      // twice, and its bytes stay put; its size is counted against the
      // limit on disk from now.
      ++e.pins;
      s.header->spilled_bytes += e.size;
      key = (*victim)->first;
      data = s.Address(e);
      size = e.size;
      path = s.SpillPath(key);
    }
    absl::Status written = WriteFile(path, data, size);
    std::lock_guard<SharedMutex> lock(s.header->mu);
    auto it = s.index->find(key);  // (there: pinned)
    if (it == s.index->end()) {    // (only if pins were given back wrongly: nothing to finish)
      s.header->spilled_bytes -= size;
      if (written.ok()) ::unlink(path.c_str());
      break;
    }
    Entry& e = it->second;
    if (e.pins > 0) --e.pins;
    if (!written.ok() || e.deleted || e.pins > 0) {
      // It failed, was deleted meanwhile, or a reader came: it stays in
      // memory (or goes, deleted, once unread), and its file goes.
      s.header->spilled_bytes -= size;
      if (written.ok()) ::unlink(path.c_str());
      if (e.deleted && e.pins == 0) s.Free(it);
      if (!written.ok()) break;
      continue;
    }
    s.FinishSpill(e);
    ++spilled;
  }
  return spilled;
}

std::string SharedObjectStore::spill_dir() {
  std::lock_guard<SharedMutex> lock(impl_->header->mu);
  return impl_->header->spill_dir;
}

uint64_t SharedObjectStore::capacity() const { return impl_->header->capacity; }

StoreStats SharedObjectStore::Stats() {
  std::lock_guard<SharedMutex> lock(impl_->header->mu);
  return impl_->StatsLocked();
}

bool SharedObjectStore::InSegment(const void* p) const {
  const char* base = static_cast<const char*>(impl_->segment.get_address());
  return p >= base && p < base + impl_->segment.get_size();
}

}  // namespace raycc::object_store
