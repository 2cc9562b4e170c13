#pragma once

/// \file
/// absl::Status helpers. Runtime functions return absl::Status or
/// absl::StatusOr<T>; nothing a user can cause ends in abort().

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

/// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define RAYCC_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status raycc_status_ = (expr);         \
    if (!raycc_status_.ok()) return raycc_status_; \
  } while (false)

#define RAYCC_STATUS_CONCAT_INNER_(a, b) a##b
#define RAYCC_STATUS_CONCAT_(a, b) RAYCC_STATUS_CONCAT_INNER_(a, b)

/// Evaluates `expr` (an absl::StatusOr<T>); on error returns its status from
/// the enclosing function, otherwise moves the value into `lhs`, which may be
/// a declaration (`auto x`) or an existing variable.
#define RAYCC_ASSIGN_OR_RETURN(lhs, expr) \
  RAYCC_ASSIGN_OR_RETURN_IMPL_(RAYCC_STATUS_CONCAT_(raycc_statusor_, __LINE__), lhs, expr)

#define RAYCC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

namespace raycc {

/// `status` with `context` prepended to its message ("context: message"),
/// keeping its code and payloads. OK stays OK.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

/// True when `status` means "this request can never be satisfied" (an
/// infeasible resource request): code kResourceExhausted with the
/// "raycc.infeasible" payload set by InfeasibleError.
bool IsInfeasible(const absl::Status& status);

/// A kResourceExhausted status marked as infeasible (see IsInfeasible).
absl::Status InfeasibleError(absl::string_view message);

}  // namespace raycc
