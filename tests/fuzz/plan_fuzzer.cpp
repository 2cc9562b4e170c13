//===- plan_fuzzer.cpp - LoadGraph against mutated artifacts --------------===//
//
// raycc-plan-fuzz [--seed N] [--runs N] [--seconds S] ARTIFACT_OR_DIR...
//
// The plan loader's robustness: every plan of the seed artifacts (`.rcx`,
// as `raycc compile` writes them) is loaded, then mutants of it. A mutant
// is made from the plan's protobuf text: lines deleted, duplicated or
// swapped, numbers replaced by edge values (-1, 0, 1, the node count, huge),
// enum names exchanged, strings changed; or from the artifact's bytes,
// flipped or cut short; or its task library damaged while the plan names a
// function this process lacks (so the library must be loaded). LoadGraph must load each mutant or refuse it
// with a RayccError; anything else (another exception, a crash) is the failure. Each mutant is written to
// ./plan-fuzz-input.rcx before it is loaded, so the one that failed is left there. Deterministic for a seed;
// stops after
// --runs mutants or --seconds.
//
//===----------------------------------------------------------------------===//

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <typeinfo>
#include <vector>

#include "raycc/api.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/runtime/common/artifact_file.h"
#include "text_lines.h"

namespace {

struct Seed {
  std::string path;
  raycc::proto::Artifact artifact;
  std::string bytes;  // the file as it is
};

using raycc_fuzz::Join;
using raycc_fuzz::Lines;

// A mutant of a plan's text format.
std::string MutateText(const std::string& text, int nodes, std::mt19937_64& rng) {
  std::vector<std::string> lines = Lines(text);
  if (lines.empty()) return text;
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const int rounds = 1 + static_cast<int>(rng() % 3);
  for (int r = 0; r < rounds && !lines.empty(); ++r) {
    size_t at = pick(lines.size());
    switch (rng() % 6) {
      case 0:  // a line goes (a field, or one brace of a message)
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(at));
        break;
      case 1:  // a line twice (a repeated field grows; a scalar is set twice)
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), lines[at]);
        break;
      case 2:
        std::swap(lines[at], lines[pick(lines.size())]);
        break;
      case 3:
      case 4: {  // a number becomes an edge value
        static const std::regex number(R"(-?[0-9]+)");
        std::smatch m;
        if (!std::regex_search(lines[at], m, number)) break;
        const std::string values[] = {"-1",
                                      "0",
                                      "1",
                                      "2",
                                      std::to_string(nodes),
                                      std::to_string(nodes - 1),
                                      std::to_string(nodes + 1),
                                      "4294967295",
                                      "2147483647",
                                      "9223372036854775807",
                                      "100000000"};
        lines[at] = m.prefix().str() + values[pick(std::size(values))] + m.suffix().str();
        break;
      }
      default: {  // an enum or a string changes
        static const std::regex word(R"(\b(TASK|ACTOR_CREATE|ACTOR_CALL|ACTOR_KILL|PUT|GET|JOIN|WAIT|PACK|)"
                                     R"(SPREAD|STRICT_PACK|STRICT_SPREAD)\b|"[^"]*")");
        std::smatch m;
        if (!std::regex_search(lines[at], m, word)) break;
        const std::string words[] = {"TASK", "ACTOR_CREATE", "ACTOR_CALL", "ACTOR_KILL", "PUT",   "GET",
                                     "JOIN", "WAIT",         "SPREAD",     "\"\"",       "\"x\"", "\"CPU\""};
        lines[at] = m.prefix().str() + words[pick(std::size(words))] + m.suffix().str();
        break;
      }
    }
  }
  return Join(lines);
}

// Mutants that are no plan are expected: their parse errors are not shown.
class Quiet : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
};

// A mutant of an artifact's bytes.
std::string MutateBytes(std::string bytes, std::mt19937_64& rng) {
  if (bytes.empty()) return bytes;
  if (rng() % 4 == 0) {
    bytes.resize(rng() % bytes.size());
    return bytes;
  }
  const int flips = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
  return bytes;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Loads `path`; false (after saying why) when LoadGraph failed otherwise
// than with a RayccError.
bool LoadsOrRefuses(const std::string& path, const std::string& graph, long* loaded, long* refused) {
  try {
    raycc::Graph g = raycc::LoadGraph(path, graph);
    (void)g.name();
    (void)g.size();
    (void)g.inputs();
    ++*loaded;
    return true;
  } catch (const raycc::RayccError&) {
    ++*refused;
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raycc-plan-fuzz: LoadGraph threw %s, not a RayccError: %s\n", typeid(e).name(),
                 e.what());
  } catch (...) {
    std::fprintf(stderr, "raycc-plan-fuzz: LoadGraph threw something that is not an exception\n");
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 1;
  long runs = 2000;
  double seconds = 30;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::strtol(argv[++i], nullptr, 10);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::strtod(argv[++i], nullptr);
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: raycc-plan-fuzz [--seed N] [--runs N] [--seconds S] ARTIFACT_OR_DIR...\n");
      return 0;
    } else {
      paths.push_back(a);
    }
  }
  std::vector<Seed> seeds;
  for (const std::string& p : paths) {
    std::vector<std::string> files;
    if (std::filesystem::is_directory(p)) {
      for (const auto& entry : std::filesystem::directory_iterator(p))
        if (entry.path().extension() == ".rcx") files.push_back(entry.path().string());
    } else {
      files.push_back(p);
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      absl::StatusOr<raycc::proto::Artifact> artifact = raycc::ParseArtifact(bytes);
      if (!artifact.ok()) {
        std::fprintf(stderr, "raycc-plan-fuzz: seed %s: %s\n", f.c_str(),
                     artifact.status().ToString().c_str());
        return 2;
      }
      seeds.push_back({f, *std::move(artifact), std::move(bytes)});
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "raycc-plan-fuzz: no seed artifacts (.rcx) given\n");
    return 2;
  }
  // Every seed plan loads as it is (its task library registers its
  // functions once, so that mutants are judged on their plans).
  long loaded = 0, refused = 0, unparsed = 0;
  for (const Seed& s : seeds) {
    for (const raycc::proto::ExecPlan& plan : s.artifact.plans()) {
      try {
        raycc::LoadGraph(s.path, plan.graph_name());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "raycc-plan-fuzz: seed %s, graph %s does not load: %s\n", s.path.c_str(),
                     plan.graph_name().c_str(), e.what());
        return 2;
      }
    }
  }
  const std::string work = "plan-fuzz-input.rcx";
  std::mt19937_64 rng(seed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  long run = 0;
  for (; run < runs && std::chrono::steady_clock::now() < deadline; ++run) {
    const Seed& s = seeds[rng() % seeds.size()];
    if (s.artifact.plans_size() == 0) continue;
    const int which = static_cast<int>(rng() % s.artifact.plans_size());
    const std::string graph = s.artifact.plans(which).graph_name();
    std::string bytes;
    const uint64_t how = rng() % 8;
    if (how == 1 && !s.artifact.task_library().empty() && s.artifact.plans(which).nodes_size() > 0) {
      // A damaged task library, and a plan that needs it loaded (a
      // function this process does not have): refused before it loads.
      raycc::proto::Artifact artifact = s.artifact;
      std::string* library = artifact.mutable_task_library();
      const int flips = 1 + static_cast<int>(rng() % 64);
      for (int i = 0; i < flips; ++i)
        (*library)[rng() % library->size()] ^= static_cast<char>(1 + rng() % 255);
      raycc::proto::PlanNode* node = artifact.mutable_plans(which)->mutable_nodes(
          static_cast<int>(rng() % artifact.plans(which).nodes_size()));
      node->mutable_function()->set_name("RayccPlanFuzzUnregistered");
      node->set_kind(raycc::proto::TASK);
      bytes = raycc::SerializeArtifact(artifact);
    } else if (how == 0) {
      bytes = MutateBytes(s.bytes, rng);
    } else {
      std::string text;
      google::protobuf::TextFormat::PrintToString(s.artifact.plans(which), &text);
      raycc::proto::ExecPlan mutant;
      std::string mutated = MutateText(text, s.artifact.plans(which).nodes_size(), rng);
      google::protobuf::TextFormat::Parser parser;
      Quiet quiet;
      parser.RecordErrorsTo(&quiet);
      if (!parser.ParseFromString(mutated, &mutant)) {
        ++unparsed;
        continue;
      }
      raycc::proto::Artifact artifact = s.artifact;
      *artifact.mutable_plans(which) = std::move(mutant);
      bytes = raycc::SerializeArtifact(artifact);
    }
    WriteFile(work, bytes);
    if (!LoadsOrRefuses(work, graph, &loaded, &refused)) {
      std::fprintf(stderr, "raycc-plan-fuzz: mutant %ld of %s (graph %s), seed %llu: left in %s\n", run,
                   s.path.c_str(), graph.c_str(), static_cast<unsigned long long>(seed), work.c_str());
      return 1;
    }
  }
  std::filesystem::remove(work);
  std::printf(
      "raycc-plan-fuzz: %ld mutants of %zu artifacts: %ld loaded, %ld refused with a RayccError, %ld not "
      "parsed as a plan (seed %llu)\n",
      run, seeds.size(), loaded, refused, unparsed, static_cast<unsigned long long>(seed));
  return 0;
}
