#pragma once

/// \file
/// Running user code: what it raised, described the same way wherever it
/// runs (a thread of the embedded runtime, a cluster worker process), and
/// whether a failed attempt runs again.

#include <cxxabi.h>

#include <exception>
#include <string>
#include <typeinfo>
#include <utility>

namespace raycc::core_worker {

/// What raycc::ExitActor throws: the actor whose method runs ends, for good
/// (not a std::exception, so that user code catching those lets it pass).
struct ActorExit {};

/// What user code raised: its exception's type, demangled, and message; or
/// that it asked its actor to exit (ActorExit).
struct UserError {
  std::string type;
  std::string message;
  bool exit_actor = false;
};

/// The readable name of a C++ type from `typeid(...).name()`.
std::string Demangle(const char* mangled);

/// Runs `call`; false, with what it threw in `*error`, when it throws.
template <typename Call>
bool RunUserCode(Call&& call, UserError* error) {
  try {
    std::forward<Call>(call)();
    return true;
  } catch (const ActorExit&) {
    *error = {"raycc::ExitActor", "the actor called ExitActor", true};
  } catch (const std::exception& e) {
    *error = {Demangle(typeid(e).name()), e.what()};
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    *error = {type != nullptr ? Demangle(type->name()) : "unknown exception", "(not a std::exception)"};
  }
  return false;
}

/// Whether an attempt that raised runs again: only when the caller asked
/// for exceptions to be retried (SetRetryExceptions) and retries are left
/// (-1: forever), and not once the call was cancelled. (Retries of system
/// failures, a worker that died, are the owner's: they never reach here.)
inline bool RetryAfterException(bool retry_exceptions, int retries_left, bool cancelled) {
  return retry_exceptions && retries_left != 0 && !cancelled;
}

}  // namespace raycc::core_worker
