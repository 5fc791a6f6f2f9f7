#include <gtest/gtest.h>

#include "infersim/core/strings.hpp"

namespace infersim {
namespace {

TEST(EditDistance, KnownValues) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);  // the textbook example
  EXPECT_EQ(edit_distance("tensor_paralel", "tensor_parallel"), 1u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

TEST(ClosestMatch, FindsTyposAndRejectsStrangers) {
  const std::vector<std::string> keys{"tensor_parallel", "pipeline_parallel", "expert_parallel", "replicas"};
  EXPECT_EQ(closest_match("tensor_paralel", keys).value_or(""), "tensor_parallel");
  EXPECT_EQ(closest_match("replica", keys).value_or(""), "replicas");
  EXPECT_FALSE(closest_match("completely_different_thing", keys).has_value());
}

TEST(FormatBytes, UsesDecimalUnits) {
  EXPECT_EQ(format_bytes(13.5e9), "13.5 GB");
  EXPECT_EQ(format_bytes(2.5e6), "2.5 MB");
  EXPECT_EQ(format_bytes(1.2e12), "1.2 TB");
}

}  // namespace
}  // namespace infersim
