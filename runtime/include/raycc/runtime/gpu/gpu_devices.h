#pragma once

/// \file
/// GPU discovery: what a raylet reports as its "GPU" resource. Works on every
/// machine: without CUDA, or without a GPU, discovery reports none and says why.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace raycc {

/// One CUDA device as seen by this process.
struct GpuDevice {
  int index = 0;
  std::string name;
  uint64_t total_memory_bytes = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  int multiprocessor_count = 0;
};

/// The result of looking for GPUs.
struct GpuDiscovery {
  /// Whether raycc was built with CUDA.
  bool cuda_built = false;
  /// The devices found; empty when there are none.
  std::vector<GpuDevice> devices;
  /// Why `devices` is empty ("built without CUDA", "no CUDA-capable device is
  /// detected", ...); empty when devices were found.
  std::string reason;
};

/// Looks for CUDA devices. Never fails and never aborts: a machine without a
/// GPU or driver yields no devices and a reason.
GpuDiscovery DiscoverGpus();

/// Runs a small kernel on `device` and checks its result, proving the device
/// and the toolchain's code for it work. Fails with a clear message when the
/// device does not exist or the kernel fails.
absl::Status RunGpuSelfTest(int device);

/// One line per device (or the reason there is none), for `raycc devices`.
std::string FormatGpuDiscovery(const GpuDiscovery& discovery);

}  // namespace raycc
