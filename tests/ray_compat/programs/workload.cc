// A small realistic workload in Ray's C++ API: synchronous data-parallel
// training of a linear model. The data is Put once per shard; each step,
// one task per shard computes a gradient from the current weights (held by
// a parameter-server actor), and the server applies their mean.
#include <ray/api.h>

#include <cmath>
#include <vector>

#include "check.h"

struct Shard {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  MSGPACK_DEFINE(x, y);
};

class ParameterServer {
 public:
  static ParameterServer* Create(int dims, double rate) { return new ParameterServer(dims, rate); }
  ParameterServer(int dims, double rate) : w_(dims, 0.0), rate_(rate) {}
  std::vector<double> Weights() { return w_; }
  std::vector<double> Apply(std::vector<std::vector<double>> gradients) {
    for (const auto& g : gradients)
      for (size_t i = 0; i < w_.size(); ++i) w_[i] -= rate_ * g[i] / static_cast<double>(gradients.size());
    return w_;
  }

 private:
  std::vector<double> w_;
  double rate_;
};

// The gradient of the mean squared error on one shard.
std::vector<double> Gradient(Shard shard, std::vector<double> w) {
  std::vector<double> g(w.size(), 0.0);
  for (size_t r = 0; r < shard.x.size(); ++r) {
    double err = -shard.y[r];
    for (size_t i = 0; i < w.size(); ++i) err += w[i] * shard.x[r][i];
    for (size_t i = 0; i < w.size(); ++i)
      g[i] += 2 * err * shard.x[r][i] / static_cast<double>(shard.x.size());
  }
  return g;
}

double Loss(Shard shard, std::vector<double> w) {
  double loss = 0;
  for (size_t r = 0; r < shard.x.size(); ++r) {
    double err = -shard.y[r];
    for (size_t i = 0; i < w.size(); ++i) err += w[i] * shard.x[r][i];
    loss += err * err / static_cast<double>(shard.x.size());
  }
  return loss;
}

RAY_REMOTE(ParameterServer::Create, &ParameterServer::Weights, &ParameterServer::Apply, Gradient, Loss);

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);

  const std::vector<double> truth{2.0, -1.0, 0.5};
  const int shards = 4, rows = 64, steps = 60;
  std::vector<ray::ObjectRef<Shard>> data;
  for (int s = 0; s < shards; ++s) {
    Shard shard;
    for (int r = 0; r < rows; ++r) {
      const double t = s * rows + r;
      std::vector<double> x{1.0, std::sin(t), std::cos(0.7 * t)};
      double y = 0;
      for (size_t i = 0; i < x.size(); ++i) y += truth[i] * x[i];
      shard.x.push_back(x);
      shard.y.push_back(y);
    }
    data.push_back(ray::Put(shard));
  }

  auto server = ray::Actor(ParameterServer::Create).Remote(3, 0.3);
  ray::ObjectRef<std::vector<double>> weights = server.Task(&ParameterServer::Weights).Remote();
  for (int step = 0; step < steps; ++step) {
    std::vector<ray::ObjectRef<std::vector<double>>> grads;
    for (const auto& shard : data) grads.push_back(ray::Task(Gradient).Remote(shard, weights));
    std::vector<std::vector<double>> values;
    for (const auto& g : ray::Get(grads)) values.push_back(*g);
    weights = server.Task(&ParameterServer::Apply).Remote(values);
  }
  std::vector<double> w = *weights.Get();
  for (size_t i = 0; i < truth.size(); ++i) CHECK(std::abs(w[i] - truth[i]) < 0.05);
  std::vector<ray::ObjectRef<double>> losses;
  for (const auto& shard : data) losses.push_back(ray::Task(Loss).Remote(shard, weights));
  double loss = 0;
  for (const auto& l : ray::Get(losses)) loss += *l;
  CHECK(loss < 0.01);
  std::cout << "workload: w = [" << w[0] << ", " << w[1] << ", " << w[2] << "], loss " << loss << std::endl;

  ray::Shutdown();
  std::cout << "workload: ok" << std::endl;
  return 0;
}
