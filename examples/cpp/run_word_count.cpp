// Runs the compiled word-count graph on the embedded runtime:
//
//   raycc compile examples/mlir/word_count.mlir -o word_count.rcx
//   run_word_count word_count.rcx examples/data/digits.rst
//
// prints the ten most frequent words.

#include <algorithm>
#include <cstdio>
#include <exception>
#include <vector>

#include "raycc/api.h"
#include "word_count.h"

using word_count::Count;
using word_count::Merge;
using word_count::ReadChunk;
using word_count::Tokenize;
RAYCC_REMOTE(ReadChunk, Tokenize, Count, Merge);

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <word_count.rcx> <text file>\n", argv[0]);
    return 2;
  }
  try {
    raycc::Init();
    raycc::Graph graph = raycc::LoadGraph(argv[1], "word_count");
    raycc::GraphOutputs out = graph.Execute({{"path", raycc::GraphInput::Value(std::string(argv[2]))}});
    word_count::Counts counts = *raycc::Get(out.Get<word_count::Counts>("counts"));
    std::vector<std::pair<int64_t, std::string>> top;
    int64_t total = 0;
    for (const auto& [w, n] : counts) {
      top.emplace_back(-n, w);
      total += n;
    }
    std::sort(top.begin(), top.end());
    std::printf("%lld words, %zu distinct; graph @%s ran %zu plan nodes\n", static_cast<long long>(total),
                counts.size(), graph.name().c_str(), graph.size());
    for (size_t i = 0; i < std::min<size_t>(10, top.size()); ++i) {
      std::printf("%6lld  %s\n", static_cast<long long>(-top[i].first), top[i].second.c_str());
    }
    raycc::Shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run_word_count: %s\n", e.what());
    return 1;
  }
  return 0;
}
