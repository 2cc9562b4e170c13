#pragma once

/// \file
/// Runs one task a worker was pushed: finds the function by its registered
/// name and checks its signature fingerprint (a worker never runs the wrong
/// function), checks the argument count, calls it and packs the result or
/// the exception into the reply. Arguments arrive as values (the owner
/// resolved every reference before pushing).

#include <string>

#include "raycc/proto/worker_service.pb.h"
#include "raycc/runtime/api/remote_registry.h"

namespace raycc::core_worker {

/// Runs `task` and fills `reply`; never throws (a user exception, a missing
/// function or a bad argument become reply->error(); the caller adds where
/// it ran).
void ExecuteTask(const proto::TaskSpec& task, proto::PushTaskReply* reply);

/// Runs an actor's creation task: the instance its factory built (and
/// `*factory`, whose destroy ends it), or null with reply->error().
void* CreateActorInstance(const proto::TaskSpec& task, proto::PushTaskReply* reply,
                          const internal::RemoteFunction** factory);

/// Runs a method call on the actor instance `self`; as ExecuteTask.
void ExecuteMethod(const proto::TaskSpec& task, void* self, proto::PushTaskReply* reply);

}  // namespace raycc::core_worker
