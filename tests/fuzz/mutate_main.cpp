//===- mutate_main.cpp - a seeded mutation fuzzer over seed files ---------===//
//
// raycc-pipeline-fuzz [--seed N] [--runs N] [--seconds S] SEED_FILE_OR_DIR...
//
// Runs every seed (a `.json` file is a cluster description, anything else
// IR, split at `// -----`) through its entry point (pipeline_fuzzer.cpp),
// then mutants of them: lines deleted, duplicated or swapped, numbers and
// names replaced by others, text cut short, bytes flipped. Deterministic for
// a seed; stops after --runs mutants or --seconds. A crash is the failure
// (the mutant that caused it is written to ./crash-input first).
//
//===----------------------------------------------------------------------===//

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "text_lines.h"

extern "C" int RayccFuzzPipeline(const uint8_t* data, size_t size);
extern "C" int RayccFuzzCluster(const uint8_t* data, size_t size);
extern "C" long rayccFuzzReachedPipelines;
extern "C" long rayccFuzzLowered();

namespace {

struct Seed {
  std::string text;
  bool cluster = false;
};

using raycc_fuzz::Join;
using raycc_fuzz::Lines;

// Tokens of `text` matching `pattern`, with their positions.
std::vector<std::pair<size_t, std::string>> Tokens(const std::string& text, const std::regex& pattern) {
  std::vector<std::pair<size_t, std::string>> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it)
    out.emplace_back(it->position(), it->str());
  return out;
}

std::string Mutate(std::string text, std::mt19937_64& rng) {
  static const std::regex number(R"(-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?)");
  static const std::regex name(R"([%@][A-Za-z_][A-Za-z0-9_]*|"[A-Za-z_][A-Za-z0-9_]*")");
  static const char* interesting[] = {
      "0",     "-1",     "1",      "2",   "3",   "-2147483648",         "4294967296",
      "1e308", "-1e308", "0.0001", "nan", "inf", "9223372036854775807", "100000",
      "0.5"};
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % (n == 0 ? 1 : n)); };
  const int mutations = 1 + static_cast<int>(pick(3));
  for (int m = 0; m < mutations; ++m) {
    std::vector<std::string> lines = Lines(text);
    switch (pick(7)) {
      case 0:  // delete a line
        if (!lines.empty()) lines.erase(lines.begin() + pick(lines.size()));
        text = Join(lines);
        break;
      case 1:  // duplicate a line elsewhere
        if (!lines.empty()) lines.insert(lines.begin() + pick(lines.size()), lines[pick(lines.size())]);
        text = Join(lines);
        break;
      case 2:  // swap two lines
        if (lines.size() > 1) std::swap(lines[pick(lines.size())], lines[pick(lines.size())]);
        text = Join(lines);
        break;
      case 3: {  // a number becomes another
        auto tokens = Tokens(text, number);
        if (tokens.empty()) break;
        auto [at, token] = tokens[pick(tokens.size())];
        text.replace(at, token.size(), interesting[pick(std::size(interesting))]);
        break;
      }
      case 4: {  // a name becomes another name of the input
        auto tokens = Tokens(text, name);
        if (tokens.size() < 2) break;
        auto [at, token] = tokens[pick(tokens.size())];
        text.replace(at, token.size(), tokens[pick(tokens.size())].second);
        break;
      }
      case 5:  // cut short
        text.resize(pick(text.size() + 1));
        break;
      case 6:  // flip a byte
        if (!text.empty()) text[pick(text.size())] ^= static_cast<char>(1 << pick(8));
        break;
    }
  }
  return text;
}

void ReadSeeds(const std::filesystem::path& path, std::vector<Seed>& seeds) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (path.extension() == ".json") {
    seeds.push_back({text, true});
    return;
  }
  size_t start = 0;
  for (size_t pos; (pos = text.find("// -----", start)) != std::string::npos; start = pos + 8)
    seeds.push_back({text.substr(start, pos - start), false});
  seeds.push_back({text.substr(start), false});
}

void Run(const Seed& seed, const std::string& text) {
  {
    std::ofstream crash("crash-input", std::ios::binary | std::ios::trunc);  // (kept if this crashes)
    crash << text;
  }
  auto* data = reinterpret_cast<const uint8_t*>(text.data());
  if (seed.cluster)
    RayccFuzzCluster(data, text.size());
  else
    RayccFuzzPipeline(data, text.size());
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed_value = 1;
  long runs = 2000;
  double seconds = 30;
  std::vector<Seed> seeds;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help") {
      std::printf("usage: raycc-pipeline-fuzz [--seed N] [--runs N] [--seconds S] SEED_FILE_OR_DIR...\n");
      return 0;
    } else if (arg == "--seed" && i + 1 < argc) {
      seed_value = std::stoull(argv[++i]);
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::stol(argv[++i]);
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg))
        if (entry.is_regular_file() &&
            (entry.path().extension() == ".mlir" || entry.path().extension() == ".json"))
          ReadSeeds(entry.path(), seeds);
    } else if (std::filesystem::is_regular_file(arg)) {
      ReadSeeds(arg, seeds);
    } else {
      std::fprintf(stderr, "raycc-pipeline-fuzz: '%s' is neither an option nor a seed file or folder\n",
                   arg.c_str());
      return 2;
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "raycc-pipeline-fuzz: no seeds\n");
    return 2;
  }
  for (const Seed& s : seeds) Run(s, s.text);
  std::mt19937_64 rng(seed_value);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  long done = 0;
  for (; done < runs && std::chrono::steady_clock::now() < deadline; ++done) {
    const Seed& s = seeds[rng() % seeds.size()];
    Run(s, Mutate(s.text, rng));
  }
  std::filesystem::remove("crash-input");
  std::printf(
      "%zu seeds and %ld mutants without a crash (%ld inputs reached the pipelines, %ld compilations "
      "were lowered to plans)\n",
      seeds.size(), done, rayccFuzzReachedPipelines, rayccFuzzLowered());
  return 0;
}
