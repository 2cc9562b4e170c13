#pragma once

/// \file
/// Ray's C++ exception types, as a Ray program catches them. raycc's own
/// errors (<raycc/runtime/api/errors.h>) reach a program written against
/// <ray/api.h> as these, with raycc's messages.

#include <exception>
#include <string>

namespace ray::internal {

/// Base of every exception the Ray API throws.
class RayException : public std::exception {
 public:
  RayException(const std::string& msg) : msg_(msg) {}  // NOLINT: Ray's constructor is implicit
  const char* what() const noexcept override { return msg_.c_str(); }
  std::string msg_;
};

/// The actor a call was for is dead (killed, exited, or its constructor
/// failed).
class RayActorException : public RayException {
 public:
  using RayException::RayException;
};

/// A task raised an exception; Get of its result (or of anything that
/// depended on it) throws this, naming the task, the exception and where.
class RayTaskException : public RayException {
 public:
  using RayException::RayException;
};

/// The worker process running a task died and the task had no retries left.
class RayWorkerException : public RayException {
 public:
  using RayException::RayException;
};

/// An object that can no longer be read: every copy is gone (its holder's
/// node died) or its owner is gone.
class UnreconstructableException : public RayException {
 public:
  using RayException::RayException;
};

/// Task() or Actor() of a function no RAY_REMOTE registered.
class RayFunctionNotFound : public RayException {
 public:
  using RayException::RayException;
};

/// Kept for Ray's spelling; raycc has no runtime environments, and never
/// throws it.
class RayRuntimeEnvException : public RayException {
 public:
  using RayException::RayException;
};

/// Get with a timeout found the object not ready in time.
class RayTimeoutException : public RayException {
 public:
  using RayException::RayException;
};

/// Rethrows the exception being handled: a raycc error as the Ray exception
/// that matches it, anything else as it is. Call it in a catch block only.
[[noreturn]] void RethrowAsRay();

/// Runs `call`, raycc errors leaving it as Ray exceptions.
template <typename Call>
decltype(auto) Translated(Call&& call) {
  try {
    return call();
  } catch (...) {
    RethrowAsRay();
  }
}

}  // namespace ray::internal
