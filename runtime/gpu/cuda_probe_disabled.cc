// GPU discovery for builds without nvcc: there is no CUDA runtime to ask.

#include "cuda_probe.h"

namespace raycc::gpu_internal {

bool CudaBuilt() { return false; }

bool ProbeDevices(std::vector<GpuDevice>* devices, std::string* error) {
  *error = "raycc was built without CUDA";
  return false;
}

bool SelfTest(int device, std::string* error) {
  *error = "raycc was built without CUDA";
  return false;
}

}  // namespace raycc::gpu_internal
