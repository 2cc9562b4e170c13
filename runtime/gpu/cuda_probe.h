#pragma once

// The CUDA-facing half of GPU discovery. It uses only standard types so the
// .cu file needs neither Abseil nor raycc headers beyond this one.

#include <string>
#include <vector>

#include "raycc/runtime/gpu/gpu_devices.h"

namespace raycc::gpu_internal {

/// Whether this build links the CUDA runtime.
bool CudaBuilt();
/// Fills `devices`; on failure returns false and sets `error`.
bool ProbeDevices(std::vector<GpuDevice>* devices, std::string* error);
/// Runs the self-test kernel on `device`; on failure returns false and sets `error`.
bool SelfTest(int device, std::string* error);

}  // namespace raycc::gpu_internal
