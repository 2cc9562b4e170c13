#include "raycc/runtime/common/artifact_file.h"

#include <cstdio>
#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "raycc/proto/artifact.pb.h"

namespace raycc {
namespace {

using ::testing::HasSubstr;

proto::Artifact Sample() {
  proto::Artifact a;
  a.set_format_version(kArtifactFormatVersion);
  a.set_source("prog.mlir");
  a.set_ir("module {}");
  a.add_plans()->set_graph_name("g");
  a.set_task_library(
      std::string("\x7f"
                  "ELF\0\1",
                  6));
  return a;
}

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(ArtifactFileTest, RoundTripsThroughBytesAndFiles) {
  std::string bytes = SerializeArtifact(Sample());
  EXPECT_EQ(bytes.substr(0, 8), "RAYCCRCX");
  auto parsed = ParseArtifact(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->plans(0).graph_name(), "g");
  EXPECT_EQ(parsed->task_library(), Sample().task_library());

  std::string path = (std::filesystem::temp_directory_path() / "raycc_artifact_test.rcx").string();
  ASSERT_TRUE(WriteArtifact(path, Sample()).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto read = ReadArtifact(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->source(), "prog.mlir");
  std::remove(path.c_str());
}

TEST(ArtifactFileTest, BadInputIsAClearError) {
  EXPECT_THAT(Msg(ParseArtifact("hello").status()), HasSubstr("not a raycc artifact"));
  std::string bytes = SerializeArtifact(Sample());
  std::string future = bytes;
  future[8] = 9;
  EXPECT_THAT(Msg(ParseArtifact(future).status()), HasSubstr("format version 9 is not supported"));
  EXPECT_EQ(ParseArtifact(bytes.substr(0, bytes.size() - 3)).status().code(), absl::StatusCode::kDataLoss);
  proto::Artifact wrong = Sample();
  wrong.set_format_version(7);
  EXPECT_THAT(Msg(ParseArtifact(SerializeArtifact(wrong)).status()), HasSubstr("body says 7"));
  EXPECT_THAT(Msg(ReadArtifact("/nonexistent/x.rcx").status()),
              HasSubstr("cannot open '/nonexistent/x.rcx'"));
  EXPECT_THAT(Msg(WriteArtifact("/nonexistent/dir/x.rcx", Sample())), HasSubstr("cannot write"));
}

}  // namespace
}  // namespace raycc
