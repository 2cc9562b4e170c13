//===- replay_main.cpp - run the fuzz entry point over files --------------===//
//
// raycc-ir-fuzz-replay FILE_OR_DIR...: each file is one input; `// -----`
// splits a file into several (so lit's -split-input-file tests are seeds).
// Exits 0 when every input was handled; a crash is the failure.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int runOne(const std::string& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

static size_t runFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  size_t count = 1;
  runOne(text);
  size_t start = 0;
  for (size_t pos; (pos = text.find("// -----", start)) != std::string::npos; start = pos + 8, ++count)
    runOne(text.substr(start, pos - start));
  if (start > 0) {
    runOne(text.substr(start));
    ++count;
  }
  return count;
}

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: raycc-ir-fuzz-replay FILE_OR_DIR...\n");
    return argc < 2 ? 2 : 0;
  }
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(p))
        if (entry.is_regular_file()) inputs += runFile(entry.path());
    } else {
      inputs += runFile(p);
    }
  }
  std::printf("replayed %zu inputs without a crash\n", inputs);
  return 0;
}
