// A CUDA kernel inside raycc tasks: each task asks for one GPU, learns which
// device it holds with raycc::GetGpuIds(), and runs y = a*x + y there. The
// results are checked against the CPU. Built when nvcc is present; without a
// GPU it says so and exits 77 (ctest: skipped).
//
//   gpu_saxpy [--tasks 4] [--n 1048576]

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "raycc/api.h"
#include "saxpy_kernel.h"

/// One chunk on the task's GPU; throws when CUDA fails.
std::vector<float> Saxpy(float a, std::vector<float> x, std::vector<float> y) {
  std::vector<int> gpus = raycc::GetGpuIds();
  if (gpus.empty()) throw std::runtime_error("this task holds no GPU");
  std::string error;
  if (!SaxpyOnDevice(gpus[0], a, x.data(), y.data(), static_cast<int>(x.size()), &error)) {
    throw std::runtime_error("GPU " + std::to_string(gpus[0]) + ": " + error);
  }
  return y;
}
RAYCC_REMOTE(Saxpy);

int main(int argc, char** argv) {
  int tasks = 4, n = 1 << 20;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--tasks"))
      tasks = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--n"))
      n = std::atoi(argv[++i]);
  }
  if (tasks < 1 || n < 1) {
    std::fprintf(stderr, "gpu_saxpy: --tasks and --n must be positive\n");
    return 2;
  }
  raycc::Init(argc, argv);  // "GPU" = the devices CUDA sees
  std::vector<raycc::ObjectRef<std::vector<float>>> refs;
  std::vector<std::vector<float>> xs, ys;
  try {
    for (int t = 0; t < tasks; ++t) {
      std::vector<float> x(n), y(n);
      for (int i = 0; i < n; ++i) {
        x[i] = static_cast<float>(i % 1000) * 0.001f;
        y[i] = static_cast<float>(t);
      }
      refs.push_back(raycc::Task(Saxpy).SetResources({{"CPU", 1}, {"GPU", 1}}).Remote(2.0f, x, y));
      xs.push_back(std::move(x));
      ys.push_back(std::move(y));
    }
  } catch (const raycc::InfeasibleError& e) {
    std::printf("no GPU: skipped (%s)\n", e.what());
    raycc::Shutdown();
    return 77;
  }
  int bad = 0;
  for (int t = 0; t < tasks; ++t) {
    std::vector<float> got = *refs[t].Get();
    for (int i = 0; i < n; ++i) bad += std::fabs(got[i] - (2.0f * xs[t][i] + ys[t][i])) > 1e-5f;
  }
  std::printf("%d task(s) of %d elements on the GPU: %s\n", tasks, n, bad == 0 ? "correct" : "WRONG");
  raycc::Shutdown();
  return bad == 0 ? 0 : 1;
}
