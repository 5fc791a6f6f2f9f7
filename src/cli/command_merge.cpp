// `infersim merge SHARD... --out FILE`: join the outputs of `sweep --shard I/N` into the file one full run
// writes, byte for byte (docs/sweeps.md); or the JSON outputs of `plan --shard I/N` into the output of one
// full plan (docs/planning.md).

#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.hpp"
#include "infersim/core/atomic_file.hpp"
#include "infersim/core/file_paths.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/plan/planner.hpp"
#include "infersim/sweep/runner.hpp"

namespace infersim::cli {

namespace {

/// The file as a plan's JSON output, or nullopt when it is not one (a sweep's rows, or not a regular file:
/// merge_shards reports those). A plan's output is a JSON object written with indentation: "{" alone on its
/// first line, which no CSV header or JSONL row is.
std::optional<config::Json> read_plan_output(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > limits::kMaxJsonBytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::string first;
  if (!in || !std::getline(in, first) || first != "{") return std::nullopt;
  std::ostringstream text;
  text << first << '\n' << in.rdbuf();
  config::Json j = config::Json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !plan::is_plan_output(j)) return std::nullopt;
  return j;
}

}  // namespace

Command add_merge_command(CLI::App& app) {
  struct Options {
    std::vector<std::string> shards;
    std::string out;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("merge", "Join the outputs of `sweep --shard` (or `plan --shard --format json`) into the output of one full run");
  sub->add_option("shards", o->shards, "The shards' output files (CSV or JSONL rows, or plan JSON), in any order")->required();
  sub->add_option("--out", o->out, "The merged file")->required();
  return {sub, [o] {
            std::vector<NamedPath> inputs;
            for (const auto& shard : o->shards) inputs.push_back({"the shard", shard});
            refuse_overwriting_inputs(inputs, {{"--out", o->out}});
            if (read_plan_output(o->shards.front())) {
              std::vector<config::Json> plans;
              for (const auto& shard : o->shards) {
                auto j = read_plan_output(shard);
                if (!j) throw UsageError(shard + " is not the JSON output of `infersim plan --format json`, but " + o->shards.front() + " is");
                plans.push_back(std::move(*j));
              }
              write_file_atomically(o->out, plan::merge_plan_outputs(plans, o->shards).dump(2) + "\n");
              return 0;
            }
            sweep::merge_shards(o->shards, o->out);
            return 0;
          }};
}

}  // namespace infersim::cli
