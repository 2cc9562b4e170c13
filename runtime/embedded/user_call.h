#pragma once

/// \file
/// Running user code in the embedded runtime: a task's function, an actor's
/// constructor or method, with the arguments as the callee receives them,
/// and what it gave.

#include <functional>
#include <memory>
#include <string>

#include "absl/container/inlined_vector.h"
#include "embedded/object_table.h"
#include "raycc/runtime/api/remote_registry.h"

namespace raycc::internal::embedded {

/// What running user code gave: its result as bytes or as a value, or what
/// it raised.
struct Outcome {
  std::shared_ptr<const std::string> data;
  TypedValue typed;
  std::shared_ptr<ErrorInfo> error;
};

/// Arguments as a callee receives them, and what keeps them alive.
struct CollectedArgs {
  absl::InlinedVector<std::shared_ptr<const void>, 4> keep;
  ArgBuffers views;
};

/// Runs user code: `as_value` when given (the result stays a value), else
/// `as_bytes`; an exception becomes the outcome's error (its type and
/// message, and whether it was ExitActor). Called without the runtime's
/// lock.
Outcome Invoke(const std::function<TypedValue()>& as_value, const std::function<std::string()>& as_bytes);

/// Invoke for a task's function (as a value when it can).
Outcome InvokeTask(const RemoteFunction& f, const ArgBuffers& views);

}  // namespace raycc::internal::embedded
