#include "raycc/runtime/gpu/gpu_devices.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cuda_probe.h"

namespace raycc {

GpuDiscovery DiscoverGpus() {
  GpuDiscovery result;
  result.cuda_built = gpu_internal::CudaBuilt();
  std::string error;
  if (!gpu_internal::ProbeDevices(&result.devices, &error)) {
    result.devices.clear();
    result.reason = error;
  } else if (result.devices.empty()) {
    result.reason = "no CUDA devices";
  }
  return result;
}

absl::Status RunGpuSelfTest(int device) {
  std::string error;
  if (!gpu_internal::SelfTest(device, &error)) {
    return absl::FailedPreconditionError(absl::StrCat("GPU ", device, " self-test failed: ", error));
  }
  return absl::OkStatus();
}

std::string FormatGpuDiscovery(const GpuDiscovery& discovery) {
  if (discovery.devices.empty()) return absl::StrCat("no GPU (", discovery.reason, ")\n");
  std::string out;
  for (const GpuDevice& d : discovery.devices) {
    absl::StrAppendFormat(&out, "GPU %d: %s, %.1f GiB, compute capability %d.%d, %d SMs\n", d.index, d.name,
                          static_cast<double>(d.total_memory_bytes) / (1ull << 30),
                          d.compute_capability_major, d.compute_capability_minor, d.multiprocessor_count);
  }
  return out;
}

}  // namespace raycc
