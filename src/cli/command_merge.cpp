// `infersim merge SHARD... --out FILE`: join the outputs of `sweep --shard I/N` into the file one full run
// writes, byte for byte (docs/sweeps.md).

#include "commands.hpp"
#include "infersim/core/file_paths.hpp"
#include "infersim/sweep/runner.hpp"

namespace infersim::cli {

Command add_merge_command(CLI::App& app) {
  struct Options {
    std::vector<std::string> shards;
    std::string out;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("merge", "Join the outputs of `sweep --shard` into the file one full run writes");
  sub->add_option("shards", o->shards, "The shards' output files (CSV or JSONL), in any order")->required();
  sub->add_option("--out", o->out, "The merged file")->required();
  return {sub, [o] {
            std::vector<NamedPath> inputs;
            for (const auto& shard : o->shards) inputs.push_back({"the shard", shard});
            refuse_overwriting_inputs(inputs, {{"--out", o->out}});
            sweep::merge_shards(o->shards, o->out);
            return 0;
          }};
}

}  // namespace infersim::cli
