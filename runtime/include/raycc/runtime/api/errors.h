#pragma once

/// \file
/// The exceptions the runtime API throws. Every misuse and every failure a
/// user can cause is one of these, with a message naming the cause.

#include <stdexcept>
#include <string>

namespace raycc {

/// Base of every raycc exception (misuse: Get before Init, an unregistered
/// function, ...).
class RayccError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A task raised an exception; Get on its result (or on anything that
/// depended on it) throws this.
class TaskError : public RayccError {
 public:
  TaskError(std::string function_name, std::string exception_type, std::string message, std::string where)
      : RayccError("task " + function_name + " raised " + exception_type + ": " + message + " (on " + where +
                   ")"),
        function_name_(std::move(function_name)),
        exception_type_(std::move(exception_type)),
        original_message_(std::move(message)),
        where_(std::move(where)) {}

  /// Registered name of the function that raised.
  const std::string& function_name() const { return function_name_; }
  /// Demangled C++ type of the exception.
  const std::string& exception_type() const { return exception_type_; }
  /// The exception's what().
  const std::string& original_message() const { return original_message_; }
  /// Where the task ran.
  const std::string& where() const { return where_; }

 private:
  std::string function_name_, exception_type_, original_message_, where_;
};

/// Get with a timeout found the object not ready in time.
class GetTimeoutError : public RayccError {
 public:
  using RayccError::RayccError;
};

/// The actor a call was for is dead (killed, or its constructor failed).
class ActorDiedError : public RayccError {
 public:
  using RayccError::RayccError;
};

/// The worker process running a task died (killed, crashed, its node
/// gone) and the task had no retries left (SetMaxRetries).
class WorkerDiedError : public RayccError {
 public:
  using RayccError::RayccError;
};

/// Get on the result of a task that was cancelled before it ran.
class TaskCancelledError : public RayccError {
 public:
  using RayccError::RayccError;
};

/// An object that can no longer be read: the node holding its only copy
/// died, or its owner did, or the owner no longer holds it.
class ObjectLostError : public RayccError {
 public:
  using RayccError::RayccError;
};

/// A Put the node's shared-memory object store cannot take, even after it
/// evicted what it could and spilled what it could to disk: names the sizes
/// and why no more could be spilled (every copy pinned, the disk limit, a
/// file error). Nothing stored before is lost.
class ObjectStoreFullError : public RayccError {
 public:
  using RayccError::RayccError;
};

/// A resource request no node can ever satisfy; names what was asked and
/// what the cluster has.
class InfeasibleError : public RayccError {
 public:
  using RayccError::RayccError;
};

}  // namespace raycc
