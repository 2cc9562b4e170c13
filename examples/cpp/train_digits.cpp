// Data-parallel training with a parameter server on the runtime API: softmax
// regression on the handwritten digits. The training set is split into shards
// put once in the object store; every step, gradient tasks read the current
// weights (an ObjectRef from the parameter-server actor) and their shard, and
// the actor applies the gradients in order.
//
//   train_digits [--data examples/data/digits.csv.gz] [--steps 100] [--shards 4]
//                [--min-accuracy A]   (exit 1 when test accuracy is below A)

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "digits.h"
#include "raycc/api.h"

using namespace digits;

RAYCC_REMOTE(Gradient, Accuracy, ParamServer::Create, &ParamServer::Weights, &ParamServer::Apply);

int main(int argc, char** argv) {
  std::string data = "examples/data/digits.csv.gz";
  int steps = 100, shards = 4;
  double min_accuracy = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--data")
      data = argv[i + 1];
    else if (flag == "--steps")
      steps = std::atoi(argv[i + 1]);
    else if (flag == "--shards")
      shards = std::atoi(argv[i + 1]);
    else if (flag == "--min-accuracy")
      min_accuracy = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (steps < 1 || shards < 1) {
    std::fprintf(stderr, "--steps and --shards must be >= 1\n");
    return 2;
  }
  try {
    auto rows = Load(data);
    std::shuffle(rows.begin(), rows.end(), std::mt19937(42));
    size_t train = rows.size() * 4 / 5;
    raycc::Init();
    std::vector<raycc::ObjectRef<Shard>> parts;
    for (int s = 0; s < shards; ++s) {
      parts.push_back(raycc::Put(MakeShard(rows, train * s / shards, train * (s + 1) / shards)));
    }
    raycc::ObjectRef<Shard> test = raycc::Put(MakeShard(rows, train, rows.size()));
    auto server = raycc::Actor(ParamServer::Create).Remote(0.5 / shards);
    raycc::ObjectRef<std::vector<double>> w = server.Task(&ParamServer::Weights).Remote();
    for (int step = 1; step <= steps; ++step) {
      std::vector<raycc::ObjectRef<std::vector<double>>> grads;
      for (const auto& part : parts) grads.push_back(raycc::Task(Gradient).Remote(w, part));
      for (const auto& g : grads) w = server.Task(&ParamServer::Apply).Remote(g);
      if (step % 25 == 0 || step == steps) {
        double train_acc = *raycc::Task(Accuracy).Remote(w, parts[0]).Get();
        std::printf("step %3d  train accuracy (shard 0) %.3f\n", step, train_acc);
      }
    }
    double accuracy = *raycc::Task(Accuracy).Remote(w, test).Get();
    std::printf("test accuracy %.3f on %zu held-out digits (chance 0.100)\n", accuracy, rows.size() - train);
    raycc::Shutdown();
    if (accuracy < min_accuracy) {
      std::fprintf(stderr, "test accuracy %.3f is below --min-accuracy %.3f\n", accuracy, min_accuracy);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_digits: %s\n", e.what());
    return 1;
  }
  return 0;
}
