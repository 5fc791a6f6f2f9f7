// `infersim import-model CONFIG.json [--name NAME] [--out FILE]`: a Hugging Face config.json to a model file.

#include <iostream>
#include <optional>

#include "commands.hpp"
#include "infersim/config/catalog.hpp"
#include "infersim/core/atomic_file.hpp"
#include "infersim/model/hf_import.hpp"

namespace infersim::cli {

namespace {

struct ImportModelOptions {
  std::string config, out;
  model::ImportOptions import;
  double published_billion = 0;
};

int run_import_model(const ImportModelOptions& o) {
  model::ImportOptions options = o.import;
  if (o.published_billion > 0) options.published_parameters_billion = o.published_billion;
  const auto imported = model::import_hf_config(config::load_document(o.config), options);
  const std::string text = imported.file.dump(2) + "\n";
  if (o.out.empty()) {
    std::cout << text;
  } else {
    write_file_atomically(o.out, text);
  }
  std::cerr << model::import_summary(imported.spec) << '\n';
  return 0;
}

}  // namespace

Command add_import_model_command(CLI::App& app) {
  auto o = std::make_shared<ImportModelOptions>();
  CLI::App* sub = app.add_subcommand(
      "import-model", "Convert a Hugging Face config.json into a model file (stdout, or --out); a summary on stderr");
  sub->add_option("config", o->config, "config.json as downloaded with the model")->required();
  sub->add_option("--name", o->import.name, "Model name (default: the config's directory)");
  sub->add_option("--out", o->out, "Write the model file here instead of stdout");
  sub->add_option("--source", o->import.source, "The file's `source` (default: the config's path), e.g. its URL");
  sub->add_option("--published-parameters-billion", o->published_billion,
                  "The model card's parameter count (default: the count computed from the shape)")
      ->check(CLI::PositiveNumber);
  return {sub, [o] { return run_import_model(*o); }};
}

}  // namespace infersim::cli
