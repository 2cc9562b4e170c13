// The functions the word-count graph (examples/mlir/word_count.mlir) calls,
// registered with RAYCC_REMOTE by whoever includes this header once.

#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace word_count {

using Counts = std::map<std::string, int64_t>;
inline constexpr int kChunks = 4;

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Chunk i of kChunks of the file, split at line boundaries.
inline std::string ReadChunk(std::string path, int64_t i) {
  std::istringstream lines(ReadFile(path));
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);) all.push_back(line);
  size_t per = (all.size() + kChunks - 1) / kChunks;
  std::string out;
  for (size_t k = i * per; k < std::min(all.size(), (i + 1) * per); ++k) out += all[k] + "\n";
  return out;
}

/// Lower-case alphabetic words.
inline std::vector<std::string> Tokenize(std::string text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text + " ") {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
}

inline Counts Count(std::vector<std::string> words) {
  Counts counts;
  for (const auto& w : words) ++counts[w];
  return counts;
}

inline Counts Merge(Counts a, Counts b) {
  for (const auto& [w, n] : b) a[w] += n;
  return a;
}

}  // namespace word_count
