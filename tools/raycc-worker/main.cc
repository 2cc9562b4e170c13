// raycc-worker: a worker process of a raycc cluster that holds the runtime
// alone. A raylet starts it for a job whose driver named it as its worker
// program (`raycc run --address` does): it loads the job's task libraries
// (a compiled graph's functions), registers with the raylet and runs the
// tasks pushed to it until the raylet ends it. It is not run by hand.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "raycc/api.h"

int main(int argc, char **argv) {
  const char *worker = std::getenv("RAYCC_WORKER");
  if (worker == nullptr || std::strcmp(worker, "1") != 0 || argc > 1) {
    std::fprintf(argc > 1 && std::strcmp(argv[1], "--help") == 0 ? stdout
                                                                 : stderr,
                 "USAGE: raycc-worker (started by a raylet, with "
                 "RAYCC_WORKER=1 and the job's environment)\n\n"
                 "A worker process of a raycc cluster holding the runtime "
                 "alone: it loads the job's\n"
                 "task libraries (RAYCC_TASK_LIBRARIES), registers with its "
                 "raylet and runs the\n"
                 "tasks pushed to it. Drivers name it as "
                 "Config.worker_program; `raycc run\n"
                 "--address` does. It is not meant to be run by hand.\n");
    return argc > 1 && std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  try {
    raycc::Init(); // serves until the raylet ends this process; never returns
  } catch (const std::exception &e) {
    std::fprintf(stderr, "raycc-worker: %s\n", e.what());
    return 1;
  }
  return 0;
}
