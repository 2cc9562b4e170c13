// The digits model both parameter-server examples train: softmax regression
// on the handwritten digits (examples/data/digits.csv.gz, 8x8 pixels and a
// label per row). Shared by the runtime-API program (train_digits.cpp) and
// the graph program (examples/graphs/param_server.cc); each registers the
// functions it uses with RAYCC_REMOTE.

#pragma once

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "raycc/api.h"

namespace digits {

constexpr int kFeatures = 64 + 1;  // pixels / 16, then a bias
constexpr int kClasses = 10;

struct Shard {
  std::vector<double> x;  // rows of kFeatures
  std::vector<int> y;
  MSGPACK_DEFINE(x, y);
};

inline std::vector<double> Softmax(const std::vector<double>& w, const double* x) {
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
inline std::vector<double> Gradient(std::vector<double> w, Shard shard) {
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
inline double Accuracy(std::vector<double> w, Shard shard) {
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

inline std::vector<std::pair<std::vector<double>, int>> Load(const std::string& path) {
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

inline Shard MakeShard(const std::vector<std::pair<std::vector<double>, int>>& rows, size_t begin,
                       size_t end) {
  Shard s;
  for (size_t i = begin; i < end; ++i) {
    s.x.insert(s.x.end(), rows[i].first.begin(), rows[i].first.end());
    s.y.push_back(rows[i].second);
  }
  return s;
}

/// Rows of the data set in a fixed shuffled order; the last quarter is the
/// test set.
inline std::vector<std::pair<std::vector<double>, int>> Shuffled(const std::string& path) {
  auto rows = Load(path);
  uint64_t state = 0x9E3779B97F4A7C15ull;  // a fixed xorshift stream: the same split everywhere
  for (size_t i = rows.size(); i > 1; --i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::swap(rows[i - 1], rows[state % i]);
  }
  return rows;
}

/// Training shard `index` of `count`.
inline Shard LoadShard(std::string path, int64_t index, int64_t count) {
  auto rows = Shuffled(path);
  size_t train = rows.size() * 3 / 4;
  size_t per = (train + count - 1) / count;
  size_t begin = std::min(train, per * index);
  return MakeShard(rows, begin, std::min(train, begin + per));
}

/// The held-out quarter.
inline Shard LoadTestSet(std::string path) {
  auto rows = Shuffled(path);
  return MakeShard(rows, rows.size() * 3 / 4, rows.size());
}

}  // namespace digits
