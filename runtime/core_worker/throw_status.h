#pragma once

/// \file
/// How a component's status reaches a user of the runtime API: as the
/// exception the API documents. Components speak absl::Status; the two
/// runtimes throw at their API edge through this one rule.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace raycc::core_worker {

/// Throws `status` (not OK): InfeasibleError when it is infeasible
/// (IsInfeasible: it can never be satisfied), else RayccError. The message
/// is "<what>: <status message>" (just the status message for an empty
/// `what`).
[[noreturn]] void ThrowStatus(const absl::Status& status, absl::string_view what);

}  // namespace raycc::core_worker
