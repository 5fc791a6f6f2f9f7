#include <gtest/gtest.h>

#include "infersim/config/json_reader.hpp"

namespace infersim::config {
namespace {

TEST(ObjectReader, ReadsTypedValues) {
  const Json j = Json::parse(R"({"a": 1.5, "b": 3, "c": "x", "d": true, "e": null, "f": "fp8"})");
  Diagnostics d("f.json");
  ObjectReader r(j, "", d);
  EXPECT_DOUBLE_EQ(r.number("a"), 1.5);
  EXPECT_EQ(r.integer("b"), 3);
  EXPECT_EQ(r.string("c"), "x");
  EXPECT_TRUE(r.boolean("d"));
  EXPECT_FALSE(r.nullable_number("e").has_value());
  EXPECT_EQ(r.dtype("f"), DType::fp8);
  EXPECT_DOUBLE_EQ(r.number_or("missing", 7.0), 7.0);
  r.finish();
  EXPECT_TRUE(d.empty());
}

TEST(ObjectReader, UnknownKeyNamesPathAndClosestKey) {
  const Json j = Json::parse(R"({"deployment": {"tensor_paralel": 2}})");
  Diagnostics d("scenario.json");
  ObjectReader r(j, "", d);
  ObjectReader dep = r.object("deployment");
  dep.integer_or("tensor_parallel", 1);
  dep.integer_or("pipeline_parallel", 1);
  dep.finish();
  r.finish();
  ASSERT_EQ(d.items().size(), 1u);
  EXPECT_EQ(d.items()[0].file, "scenario.json");
  EXPECT_EQ(d.items()[0].path, "/deployment/tensor_paralel");
  EXPECT_NE(d.items()[0].message.find("did you mean \"tensor_parallel\""), std::string::npos);
}

TEST(ObjectReader, WrongTypeAndRangeAreReportedTogether) {
  const Json j = Json::parse(R"({"rate": -2, "name": 5, "count": 2.5})");
  Diagnostics d("x.json");
  ObjectReader r(j, "/workload", d);
  r.number("rate", Range::positive());
  r.string("name");
  r.integer("count", Range::at_least(1));
  r.finish();
  ASSERT_EQ(d.items().size(), 3u);
  EXPECT_EQ(d.items()[0].path, "/workload/rate");
  EXPECT_NE(d.items()[0].message.find("> 0"), std::string::npos);
  EXPECT_NE(d.items()[0].message.find("-2"), std::string::npos);
  EXPECT_NE(d.items()[1].message.find("expected a string"), std::string::npos);
  EXPECT_NE(d.items()[2].message.find("expected an integer"), std::string::npos);
  EXPECT_THROW(d.throw_if_any(), ConfigError);
}

TEST(ObjectReader, MissingRequiredKeyAndBadChoice) {
  const Json j = Json::parse(R"({"dtype": "bfloat16"})");
  Diagnostics d("m.json");
  ObjectReader r(j, "", d);
  r.integer("num_layers");
  r.dtype("dtype");
  r.finish();
  ASSERT_EQ(d.items().size(), 2u);
  EXPECT_NE(d.items()[0].message.find("missing required key"), std::string::npos);
  EXPECT_NE(d.items()[1].message.find("Valid values: fp32"), std::string::npos);
}

TEST(ObjectReader, NonObjectIsReported) {
  const Json j = Json::parse("[1, 2]");
  Diagnostics d("a.json");
  ObjectReader r(j, "", d);
  EXPECT_FALSE(r.valid());
  ASSERT_EQ(d.items().size(), 1u);
  EXPECT_NE(d.items()[0].message.find("expected a JSON object"), std::string::npos);
}

TEST(ParseJson, SyntaxErrorGivesLineAndColumn) {
  try {
    parse_json_text("{\n  \"a\": 1,\n  \"b\": ]\n}", "bad.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.json"), std::string::npos);
    EXPECT_NE(msg.find("3:"), std::string::npos) << msg;  // the error is on line 3
  }
}

TEST(ParseJson, MissingFileIsAConfigError) {
  EXPECT_THROW(parse_json_file("/nonexistent/file.json"), ConfigError);
}

}  // namespace
}  // namespace infersim::config
