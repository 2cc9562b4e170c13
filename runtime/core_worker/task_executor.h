#pragma once

/// \file
/// Runs one task a worker was pushed: finds the function by its registered
/// name and checks its signature fingerprint (a worker never runs the wrong
/// function), checks the argument count, calls it and packs the result or
/// the exception into the reply. Arguments arrive as values (the owner
/// resolved every reference before pushing).

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "raycc/proto/worker_service.pb.h"
#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/common/id.h"

namespace raycc::core_worker {

/// Reads an argument the owner left as a reference (an object in this
/// node's shared-memory store): its bytes, and what keeps them readable
/// (held at least until the task is done), or an error saying why it cannot
/// be read.
using RefReader = std::function<absl::StatusOr<internal::ArgView>(const proto::TaskArg&)>;

/// Offered the task's result (its id, and the value as the function
/// returned it) before it is serialized into the reply: true when it wrote
/// the bytes elsewhere itself (a node's store), so the reply carries none.
using ResultWriter = std::function<bool(const ObjectId& id, const internal::TypedValue& value)>;

/// Runs `task` and fills `reply`; never throws (a user exception, a missing
/// function or a bad argument become reply->error(); the caller adds where
/// it ran). Arguments are values, or references `read_ref` reads. With
/// `write_result`, the result is offered to it first (the reply's return
/// object then says `in_plasma` when it took it).
void ExecuteTask(const proto::TaskSpec& task, proto::PushTaskReply* reply, const RefReader& read_ref = {},
                 const ResultWriter& write_result = {});

/// Runs an actor's creation task: the instance its factory built (and
/// `*factory`, whose destroy ends it), or null with reply->error().
void* CreateActorInstance(const proto::TaskSpec& task, proto::PushTaskReply* reply,
                          const internal::RemoteFunction** factory, const RefReader& read_ref = {});

/// Runs a method call on the actor instance `self`; as ExecuteTask.
void ExecuteMethod(const proto::TaskSpec& task, void* self, proto::PushTaskReply* reply,
                   const RefReader& read_ref = {}, const ResultWriter& write_result = {});

}  // namespace raycc::core_worker
