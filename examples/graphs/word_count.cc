// Map-reduce word count as a compiled graph: read the chunks of a text file,
// tokenize and count each chunk (at -O2 the compiler fuses each
// read -> tokenize -> count chain into one task), then merge the counts in a
// tree.
//
//   raycc compile examples/graphs/word_count.cc -o wc.rcx
//   raycc run wc.rcx --input path=examples/data/digits.rst

#include "../cpp/word_count.h"

#include <raycc/graph.h>

using namespace word_count;

RAYCC_REMOTE(ReadChunk, Tokenize, Count, Merge);
RAYCC_PURE(ReadChunk, Tokenize, Count, Merge);  // no side effects: the compiler may drop or merge calls

RAYCC_GRAPH(word_count, raycc::GraphBuilder& g) {
  auto path = g.Input<std::string>("path");
  std::vector<raycc::Value<Counts>> counts;
  for (int64_t i = 0; i < kChunks; ++i) {
    auto text = g.Task(ReadChunk).Call(path, i);
    auto words = g.Task(Tokenize).Call(text);
    counts.push_back(g.Task(Count).Call(words));
  }
  // Merge pairwise until one is left.
  while (counts.size() > 1) {
    std::vector<raycc::Value<Counts>> next;
    for (size_t i = 0; i + 1 < counts.size(); i += 2)
      next.push_back(g.Task(Merge).Call(counts[i], counts[i + 1]));
    if (counts.size() % 2 == 1) next.push_back(counts.back());
    counts = std::move(next);
  }
  g.Output("counts", counts.front());
}
