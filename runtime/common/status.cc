#include "raycc/runtime/common/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace raycc {
namespace {
constexpr absl::string_view kInfeasiblePayload = "raycc.infeasible";
}  // namespace

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok() || context.empty()) return status;
  absl::Status annotated(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { annotated.SetPayload(url, payload); });
  return annotated;
}

bool IsInfeasible(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted &&
         status.GetPayload(kInfeasiblePayload).has_value();
}

absl::Status InfeasibleError(absl::string_view message) {
  absl::Status status = absl::ResourceExhaustedError(message);
  status.SetPayload(kInfeasiblePayload, absl::Cord("1"));
  return status;
}

}  // namespace raycc
