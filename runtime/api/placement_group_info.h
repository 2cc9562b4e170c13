// The API's description of a placement group, from the control service's
// record (both runtimes list groups through it).

#ifndef RAYCC_RUNTIME_API_PLACEMENT_GROUP_INFO_H
#define RAYCC_RUNTIME_API_PLACEMENT_GROUP_INFO_H

#include "raycc/proto/gcs_service.pb.h"
#include "raycc/runtime/api/runtime_interface.h"

namespace raycc::internal {

/// `info` as the API describes it; a record that does not parse (it never
/// happens with records this runtime wrote) gives an id-less entry.
PlacementGroupInfo ToPlacementGroupInfo(const proto::PlacementGroupInfo& info);

}  // namespace raycc::internal

#endif  // RAYCC_RUNTIME_API_PLACEMENT_GROUP_INFO_H
