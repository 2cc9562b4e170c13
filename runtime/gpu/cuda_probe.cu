#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "cuda_probe.h"

namespace raycc::gpu_internal {
namespace {

__global__ void AxpyKernel(float a, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

bool Check(cudaError_t err, const char* what, std::string* error) {
  if (err == cudaSuccess) return true;
  *error = std::string(what) + ": " + cudaGetErrorString(err);
  // A failed runtime call also becomes the thread's "last error"; clear it so
  // it is not reported again by the next kernel launch check.
  (void)cudaGetLastError();
  return false;
}

}  // namespace

bool CudaBuilt() { return true; }

bool ProbeDevices(std::vector<GpuDevice>* devices, std::string* error) {
  int count = 0;
  if (!Check(cudaGetDeviceCount(&count), "cudaGetDeviceCount", error)) return false;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (!Check(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties", error)) return false;
    GpuDevice d;
    d.index = i;
    d.name = prop.name;
    d.total_memory_bytes = prop.totalGlobalMem;
    d.compute_capability_major = prop.major;
    d.compute_capability_minor = prop.minor;
    d.multiprocessor_count = prop.multiProcessorCount;
    devices->push_back(std::move(d));
  }
  return true;
}

bool SelfTest(int device, std::string* error) {
  if (!Check(cudaSetDevice(device), "cudaSetDevice", error)) return false;
  constexpr int kN = 1 << 16;
  std::vector<float> x(kN), y(kN);
  for (int i = 0; i < kN; ++i) {
    x[i] = static_cast<float>(i);
    y[i] = 1.0f;
  }
  float* dx = nullptr;
  float* dy = nullptr;
  bool ok =
      Check(cudaMalloc(&dx, kN * sizeof(float)), "cudaMalloc", error) &&
      Check(cudaMalloc(&dy, kN * sizeof(float)), "cudaMalloc", error) &&
      Check(cudaMemcpy(dx, x.data(), kN * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy", error) &&
      Check(cudaMemcpy(dy, y.data(), kN * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy", error);
  if (ok) {
    AxpyKernel<<<(kN + 255) / 256, 256>>>(2.0f, dx, dy, kN);
    ok = Check(cudaGetLastError(), "kernel launch", error) &&
         Check(cudaMemcpy(y.data(), dy, kN * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy", error);
  }
  cudaFree(dx);
  cudaFree(dy);
  if (!ok) return false;
  for (int i = 0; i < kN; ++i) {
    if (y[i] != 2.0f * static_cast<float>(i) + 1.0f) {
      *error = "self-test kernel produced a wrong value at index " + std::to_string(i);
      return false;
    }
  }
  return true;
}

}  // namespace raycc::gpu_internal
