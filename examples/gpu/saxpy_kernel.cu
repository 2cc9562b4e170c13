// The CUDA half of the GPU example: y = a*x + y on one device.

#include <cuda_runtime.h>

#include <string>

#include "saxpy_kernel.h"

namespace {

__global__ void SaxpyKernel(float a, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

bool Check(cudaError_t status, const char* what, std::string* error) {
  if (status == cudaSuccess) return true;
  *error = std::string(what) + ": " + cudaGetErrorString(status);
  cudaGetLastError();  // clear it for the next caller on this thread
  return false;
}

}  // namespace

bool SaxpyOnDevice(int device, float a, const float* x, float* y, int n, std::string* error) {
  float *dx = nullptr, *dy = nullptr;
  size_t bytes = static_cast<size_t>(n) * sizeof(float);
  bool ok = Check(cudaSetDevice(device), "cudaSetDevice", error) &&
            Check(cudaMalloc(&dx, bytes), "cudaMalloc", error) &&
            Check(cudaMalloc(&dy, bytes), "cudaMalloc", error) &&
            Check(cudaMemcpy(dx, x, bytes, cudaMemcpyHostToDevice), "copy x", error) &&
            Check(cudaMemcpy(dy, y, bytes, cudaMemcpyHostToDevice), "copy y", error);
  if (ok) {
    SaxpyKernel<<<(n + 255) / 256, 256>>>(a, dx, dy, n);
    ok = Check(cudaGetLastError(), "launch", error) && Check(cudaDeviceSynchronize(), "kernel", error) &&
         Check(cudaMemcpy(y, dy, bytes, cudaMemcpyDeviceToHost), "copy y back", error);
  }
  cudaFree(dx);
  cudaFree(dy);
  return ok;
}
