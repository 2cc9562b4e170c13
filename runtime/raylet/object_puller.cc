#include "raylet/object_puller.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "object_store/shared_object_store.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "rpc/auth.h"
#include "rpc/server.h"

namespace raycc::raylet {

absl::StatusOr<uint64_t> ObjectPuller::Pull(const ObjectId& id, const std::string& from) {
  return Pull(id, std::vector<std::string>{from});
}

bool ObjectPuller::WaitForPull(const ObjectId& id, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return !in_flight_.contains(id); });
}

absl::StatusOr<uint64_t> ObjectPuller::Pull(const ObjectId& id, const std::vector<std::string>& holders) {
  if (holders.empty())
    return absl::InvalidArgumentError("pulling object " + id.Hex() + ": no holder to pull from");
  if (absl::StatusOr<std::shared_ptr<const object_store::ObjectView>> here = store_.Get(id); here.ok())
    return (*here)->size();
  std::shared_ptr<InFlight> flight;
  bool mine = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto [it, added] = in_flight_.try_emplace(id, nullptr);
    if (added) {
      it->second = std::make_shared<InFlight>();
      mine = true;
    }
    flight = it->second;
    if (!mine) {
      cv_.wait(lock, [&] { return flight->done; });
      return flight->result;
    }
  }
  absl::StatusOr<uint64_t> result = absl::UnknownError("");
  std::vector<std::string> failures;
  for (const std::string& from : holders) {
    bool here = false;  // (no room here, or a copy being written here: no other holder helps)
    result = Transfer(id, from, &here);
    if (result.ok() || here) break;
    failures.push_back(std::string(result.status().message()));
  }
  if (!result.ok() && failures.size() > 1) {
    result = absl::Status(result.status().code(),
                          absl::StrCat("no holder of object ", id.Hex(), " could give it (", failures.size(),
                                       " tried): ", absl::StrJoin(failures, "; ")));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    flight->done = true;
    flight->result = result;
    in_flight_.erase(id);
    if (result.ok()) {
      ++pulls_;
      bytes_ += *result;
    }
  }
  cv_.notify_all();
  return result;
}

absl::StatusOr<uint64_t> ObjectPuller::Transfer(const ObjectId& id, const std::string& from, bool* here) {
  auto stub = proto::RayletService::NewStub(rpc::Connect(from));
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  // A silent holder must not hang the pull: a deadline generous for the
  // size (the first chunk says it; 1 GiB over loopback takes about a second).
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  proto::PullObjectRequest request;
  request.set_object_id(id.Binary());
  request.set_chunk_size(kChunkBytes);
  std::unique_ptr<grpc::ClientReader<proto::ObjectChunk>> reader = stub->PullObject(&context, request);
  const std::string what = absl::StrCat("pulling object ", id.Hex(), " from the raylet at ", from);
  proto::ObjectChunk chunk;
  absl::Span<char> room;
  uint64_t received = 0;
  bool created = false;
  auto fail = [&](absl::Status status) -> absl::Status {
    context.TryCancel();
    if (created) (void)store_.Abort(id);
    return status;
  };
  while (reader->Read(&chunk)) {
    if (!created) {
      absl::StatusOr<absl::Span<char>> made = store_.CreateObject(id, chunk.total_size(), /*evictable=*/true);
      if (absl::IsAlreadyExists(made.status())) {  // (a copy is here already: read that one)
        context.TryCancel();
        (void)reader->Finish();
        if (store_.Contains(id)) return chunk.total_size();
        *here = true;
        return absl::UnavailableError(
            absl::StrCat(what, ": a copy is being written here already; try again"));
      }
      if (!made.ok()) {
        *here = true;
        return fail(absl::Status(made.status().code(), absl::StrCat(what, ": ", made.status().message())));
      }
      room = *made;
      created = true;
    }
    if (chunk.offset() != received || chunk.offset() + chunk.data().size() > room.size()) {
      return fail(absl::DataLossError(absl::StrCat(what, ": a chunk at byte ", chunk.offset(), " of ",
                                                   room.size(), " when ", received, " were expected")));
    }
    std::memcpy(room.data() + chunk.offset(), chunk.data().data(), chunk.data().size());
    received += chunk.data().size();
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    if (created) (void)store_.Abort(id);
    return absl::Status(
        static_cast<absl::StatusCode>(status.error_code()),
        absl::StrCat(what, " failed after ", received, created ? absl::StrCat(" of ", room.size()) : "",
                     " bytes: ", status.error_message()));
  }
  if (!created) {  // (an empty object: no chunk carries data, but one says its size)
    return absl::DataLossError(absl::StrCat(what, ": the holder sent nothing"));
  }
  if (received != room.size()) {
    (void)store_.Abort(id);
    return absl::DataLossError(absl::StrCat(what, ": ", received, " of ", room.size(), " bytes arrived"));
  }
  if (absl::Status sealed = store_.Seal(id); !sealed.ok()) return sealed;
  return received;
}

uint64_t ObjectPuller::pulls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pulls_;
}

uint64_t ObjectPuller::bytes_pulled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace raycc::raylet
