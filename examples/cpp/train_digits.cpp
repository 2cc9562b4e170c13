// Data-parallel training with a parameter server on the runtime API: softmax
// regression on the handwritten digits. The training set is split into shards
// put once in the object store; every step, gradient tasks read the current
// weights (an ObjectRef from the parameter-server actor) and their shard, and
// the actor applies the gradients in order.
//
//   train_digits [--data examples/data/digits.csv.gz] [--steps 100] [--shards 4]
//                [--min-accuracy A]   (exit 1 when test accuracy is below A)

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "raycc/api.h"

namespace {

constexpr int kFeatures = 64 + 1;  // pixels / 16, then a bias
constexpr int kClasses = 10;

struct Shard {
  std::vector<double> x;  // rows of kFeatures
  std::vector<int> y;
  MSGPACK_DEFINE(x, y);
};

std::vector<double> Softmax(const std::vector<double>& w, const double* x) {
  std::vector<double> p(kClasses);
  double top = -1e300, sum = 0;
  for (int c = 0; c < kClasses; ++c) {
    double z = 0;
    for (int f = 0; f < kFeatures; ++f) z += w[c * kFeatures + f] * x[f];
    p[c] = z;
    top = std::max(top, z);
  }
  for (double& v : p) sum += (v = std::exp(v - top));
  for (double& v : p) v /= sum;
  return p;
}

/// Mean cross-entropy gradient of the weights over one shard.
std::vector<double> Gradient(std::vector<double> w, Shard shard) {
  std::vector<double> g(w.size(), 0.0);
  size_t n = shard.y.size();
  for (size_t i = 0; i < n; ++i) {
    const double* x = &shard.x[i * kFeatures];
    std::vector<double> p = Softmax(w, x);
    for (int c = 0; c < kClasses; ++c) {
      double d = (p[c] - (c == shard.y[i] ? 1.0 : 0.0)) / static_cast<double>(n);
      for (int f = 0; f < kFeatures; ++f) g[c * kFeatures + f] += d * x[f];
    }
  }
  return g;
}

/// Fraction of a shard classified correctly.
double Accuracy(std::vector<double> w, Shard shard) {
  size_t correct = 0;
  for (size_t i = 0; i < shard.y.size(); ++i) {
    std::vector<double> p = Softmax(w, &shard.x[i * kFeatures]);
    correct += std::max_element(p.begin(), p.end()) - p.begin() == shard.y[i];
  }
  return shard.y.empty() ? 0 : static_cast<double>(correct) / shard.y.size();
}

class ParamServer {
 public:
  static ParamServer* Create(double learning_rate) { return new ParamServer(learning_rate); }
  std::vector<double> Weights() const { return w_; }
  /// w -= learning_rate * grad; returns the new weights.
  std::vector<double> Apply(std::vector<double> grad) {
    for (size_t k = 0; k < w_.size(); ++k) w_[k] -= learning_rate_ * grad[k];
    return w_;
  }

 private:
  explicit ParamServer(double learning_rate) : w_(kClasses * kFeatures, 0.0), learning_rate_(learning_rate) {}
  std::vector<double> w_;
  double learning_rate_;
};

RAYCC_REMOTE(Gradient, Accuracy, ParamServer::Create, &ParamServer::Weights, &ParamServer::Apply);

std::vector<std::pair<std::vector<double>, int>> Load(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error("cannot open " + path);
  std::vector<std::pair<std::vector<double>, int>> rows;
  char line[4096];
  while (gzgets(file, line, sizeof line) != nullptr) {
    std::vector<double> values;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) values.push_back(std::atof(cell.c_str()));
    if (values.size() != 65) continue;
    std::vector<double> x(values.begin(), values.begin() + 64);
    for (double& v : x) v /= 16.0;
    x.push_back(1.0);
    rows.emplace_back(std::move(x), static_cast<int>(values[64]));
  }
  gzclose(file);
  if (rows.empty()) throw std::runtime_error(path + ": no rows of 64 features and a label");
  return rows;
}

Shard MakeShard(const std::vector<std::pair<std::vector<double>, int>>& rows, size_t begin, size_t end) {
  Shard s;
  for (size_t i = begin; i < end; ++i) {
    s.x.insert(s.x.end(), rows[i].first.begin(), rows[i].first.end());
    s.y.push_back(rows[i].second);
  }
  return s;
}

}  // namespace

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
