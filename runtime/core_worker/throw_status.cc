#include "core_worker/throw_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "raycc/runtime/api/errors.h"
#include "raycc/runtime/common/status.h"

namespace raycc::core_worker {

// (raycc::InfeasibleError names both the exception and, in status.h, the
// function making an infeasible status: the function hides the class.)
using InfeasibleException = class raycc::InfeasibleError;

void ThrowStatus(const absl::Status& status, absl::string_view what) {
  std::string message =
      what.empty() ? std::string(status.message()) : absl::StrCat(what, ": ", status.message());
  if (IsInfeasible(status)) throw InfeasibleException(message);
  throw RayccError(message);
}

}  // namespace raycc::core_worker
