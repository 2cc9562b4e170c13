#include "raycc/runtime/common/id.h"

#include <cstring>
#include <random>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace raycc {
namespace id_internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string ToHex(const uint8_t* data, size_t n) {
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHexDigits[data[i] >> 4];
    out[2 * i + 1] = kHexDigits[data[i] & 0xf];
  }
  return out;
}

absl::Status FromHex(absl::string_view hex, uint8_t* out, size_t n, absl::string_view kind) {
  if (hex.size() != 2 * n) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " in hex must be ", 2 * n, " characters, got ", hex.size()));
  }
  for (size_t i = 0; i < n; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      size_t bad = hi < 0 ? 2 * i : 2 * i + 1;
      return absl::InvalidArgumentError(absl::StrCat(kind, " in hex has a non-hex character at offset ", bad,
                                                     ": '", hex.substr(bad, 1), "'"));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return absl::OkStatus();
}

absl::Status CheckSize(absl::string_view binary, size_t n, absl::string_view kind) {
  if (binary.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(kind, " must be ", n, " bytes, got ", binary.size()));
  }
  return absl::OkStatus();
}

void FillRandom(uint8_t* out, size_t n) {
  // absl::BitGen is seeded from the OS entropy source once per thread, so IDs
  // from different processes and threads do not collide in practice.
  thread_local absl::BitGen gen;
  // 64 random bits at a time: IDs are made on every submission.
  while (n > 0) {
    uint64_t bits = absl::Uniform<uint64_t>(gen);
    size_t take = n < sizeof bits ? n : sizeof bits;
    std::memcpy(out, &bits, take);
    out += take;
    n -= take;
  }
}

}  // namespace id_internal

namespace {

void StoreBigEndian32(uint32_t v, uint8_t* out) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}

uint32_t LoadBigEndian32(const uint8_t* in) {
  return uint32_t{in[0]} << 24 | uint32_t{in[1]} << 16 | uint32_t{in[2]} << 8 | uint32_t{in[3]};
}

// Builds an ID of type T from `random_bytes` random bytes followed by `suffix`.
template <typename T, typename Suffix>
T RandomWithSuffix(const Suffix& suffix) {
  static_assert(T::kSize > Suffix::kSize);
  char bytes[T::kSize];
  id_internal::FillRandom(reinterpret_cast<uint8_t*>(bytes), T::kSize - Suffix::kSize);
  std::memcpy(bytes + T::kSize - Suffix::kSize, suffix.data(), Suffix::kSize);
  return *T::FromBinary(absl::string_view(bytes, T::kSize));
}

template <typename T>
JobId JobSuffix(const T& id) {
  return *JobId::FromBinary(
      absl::string_view(reinterpret_cast<const char*>(id.data()) + T::kSize - JobId::kSize, JobId::kSize));
}

absl::StatusOr<ObjectId> MakeObjectId(const TaskId& task, uint32_t index, bool put) {
  if (index == 0 || index > ObjectId::kMaxIndex) {
    return absl::InvalidArgumentError(absl::StrCat(put ? "put" : "return", " index must be in [1, ",
                                                   ObjectId::kMaxIndex, "], got ", index));
  }
  char bytes[ObjectId::kSize];
  std::memcpy(bytes, task.data(), TaskId::kSize);
  StoreBigEndian32(put ? (index | ObjectId::kPutBit) : index,
                   reinterpret_cast<uint8_t*>(bytes) + TaskId::kSize);
  return ObjectId::FromBinary(absl::string_view(bytes, ObjectId::kSize));
}

}  // namespace

JobId JobId::FromInt(uint32_t value) {
  JobId id;
  StoreBigEndian32(value, id.bytes_.data());
  return id;
}

uint32_t JobId::ToInt() const { return LoadBigEndian32(bytes_.data()); }

ActorId ActorId::Of(const JobId& job) { return RandomWithSuffix<ActorId>(job); }
JobId ActorId::Job() const { return JobSuffix(*this); }

PlacementGroupId PlacementGroupId::Of(const JobId& job) { return RandomWithSuffix<PlacementGroupId>(job); }
JobId PlacementGroupId::Job() const { return JobSuffix(*this); }

TaskId TaskId::Of(const JobId& job) {
  // A task is made on every submission: instead of 16 fresh random bytes,
  // a per-thread random word (bytes 8-15, drawn once) and a per-thread
  // counter scrambled by a bijection (bytes 0-7). Unique while the thread
  // words differ (64 random bits); bytes 0-7 vary with every task, so hash
  // tables keyed by these IDs (which hash bytes 0-7 and the end) spread.
  struct Stream {
    uint64_t thread_word = 0;
    uint64_t counter = 0;
  };
  thread_local Stream stream = [] {
    Stream s;
    id_internal::FillRandom(reinterpret_cast<uint8_t*>(&s.thread_word), sizeof s.thread_word);
    return s;
  }();
  uint64_t x = ++stream.counter + stream.thread_word;  // splitmix64: a bijection of x
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  char bytes[kSize];
  std::memcpy(bytes, &x, 8);
  std::memcpy(bytes + 8, &stream.thread_word, 8);
  std::memcpy(bytes + kSize - JobId::kSize, job.data(), JobId::kSize);
  static_assert(kSize == 16 + JobId::kSize);
  return *FromBinary(absl::string_view(bytes, kSize));
}

TaskId TaskId::ForDriver(const JobId& job) {
  // 16 bytes of 0xff then the job: cannot be nil, and a random TaskId equals
  // it with negligible probability.
  std::string bytes(kSize, '\xff');
  std::memcpy(bytes.data() + kSize - JobId::kSize, job.data(), JobId::kSize);
  return *FromBinary(bytes);
}

JobId TaskId::Job() const { return JobSuffix(*this); }

absl::StatusOr<ObjectId> ObjectId::ForReturn(const TaskId& task, uint32_t index) {
  return MakeObjectId(task, index, /*put=*/false);
}

absl::StatusOr<ObjectId> ObjectId::ForPut(const TaskId& task, uint32_t index) {
  return MakeObjectId(task, index, /*put=*/true);
}

TaskId ObjectId::Task() const {
  return *TaskId::FromBinary(absl::string_view(reinterpret_cast<const char*>(data()), TaskId::kSize));
}

uint32_t ObjectId::Index() const { return LoadBigEndian32(data() + TaskId::kSize) & ~kPutBit; }

bool ObjectId::IsPut() const { return (LoadBigEndian32(data() + TaskId::kSize) & kPutBit) != 0; }

}  // namespace raycc
