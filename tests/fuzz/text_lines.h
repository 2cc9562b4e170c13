#pragma once

// Text as lines and back, for the mutation fuzzers (a mutant is made by
// dropping, doubling or swapping lines).

#include <sstream>
#include <string>
#include <vector>

namespace raycc_fuzz {

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace raycc_fuzz
