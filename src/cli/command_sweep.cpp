// `infersim sweep SWEEP`: run every point of a sweep file in parallel, one output row per point
// (docs/sweeps.md). Exit code 2 when some points failed (their rows carry the error), 3 when one failed
// for a reason inside infersim.

#include <iostream>
#include <optional>

#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "infersim/core/atomic_file.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/file_paths.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/sweep/pareto.hpp"
#include "infersim/sweep/runner.hpp"
#include "output.hpp"
#include "progress.hpp"

namespace infersim::cli {

namespace {

struct SweepCommandOptions {
  std::string sweep, out, format, shard, pareto, pareto_out;
  unsigned jobs = 0;
};

int run_sweep_command(const SweepCommandOptions& c) {
  refuse_overwriting_inputs({{"the sweep file", c.sweep}}, {{"--out", c.out}, {"--pareto-out", c.pareto_out}});
  const sweep::SweepSpec spec = sweep::load_sweep(c.sweep);
  refuse_overwriting_inputs({{"the base scenario", spec.base.file}}, {{"--out", c.out}, {"--pareto-out", c.pareto_out}});
  sweep::SweepOptions o;
  o.jobs = c.jobs;
  o.out = c.out;
  o.stream = &std::cout;
  o.format = c.format.empty() ? sweep::format_for_path(c.out) : (c.format == "jsonl" ? sweep::RowFormat::jsonl : sweep::RowFormat::csv);
  if (!c.shard.empty()) o.shard = sweep::parse_shard(c.shard);

  const sweep::RowLayout layout(spec.keys(), o.format);
  std::optional<sweep::ParetoCollector> pareto;
  if (!c.pareto.empty()) {
    if (c.out.empty() && c.pareto_out.empty()) {
      throw UsageError("--pareto without --out would print the frontier among the sweep's rows on stdout; give --out FILE "
                       "for the rows or --pareto-out FILE for the frontier");
    }
    pareto.emplace(layout, sweep::parse_objectives(c.pareto));
    o.on_row = [&](std::size_t point, std::string_view row) { pareto->add_row(point, row); };
  } else if (!c.pareto_out.empty()) {
    throw UsageError("--pareto-out needs --pareto X,Y: the two metrics of the frontier");
  }

  ProgressBar bar("sweep");
  o.progress = [&](const sweep::SweepProgress& p) { bar.update(p.done, p.total, p.failed); };
  const sweep::SweepSummary s = sweep::run_sweep(spec, o);
  bar.finish();

  if (s.dropped_partial_row) {
    spdlog::warn("the rows an interrupted run left in {} ended in a row cut short; it was dropped and its point run again",
                 sweep::partial_output_path(c.out));
  }
  if (pareto) {
    if (c.pareto_out.empty()) {
      std::cout << pareto->text();
    } else {
      write_file_atomically(c.pareto_out, pareto->text());
    }
  }
  if (s.failed > 0) {
    spdlog::error("{} of {} points failed (their rows have the error column filled); the first, {}", s.failed,
                  s.resumed + s.ran, s.first_error);
  }
  if (s.internal_errors > 0) return 3;
  return s.failed > 0 ? 2 : 0;
}

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto o = std::make_shared<SweepCommandOptions>();
  CLI::App* sub = app.add_subcommand("sweep", "Run every point of a sweep file (grid / zip over scenario keys) in parallel, one row per point");
  sub->add_option("sweep", o->sweep, "Sweep JSON file: {\"base\": SCENARIO, \"grid\": {...}, \"zip\": {...}}")->required();
  sub->add_option("--out", o->out, "Write the rows to FILE (rerunning into it resumes, skipping the points it holds); default stdout");
  sub->add_option("--format", o->format, "csv or jsonl (default: jsonl when --out ends in .jsonl, else csv)")
      ->check(one_of({"csv", "jsonl"}));
  sub->add_option("--jobs,-j", o->jobs, "Points simulated at once (default: every core)");
  sub->add_option("--shard", o->shard, "I/N: run only the points i with i % N == I (merge the shards with `infersim merge`)");
  sub->add_option("--pareto", o->pareto,
                  "X,Y: print the Pareto frontier of two metrics, both minimized unless prefixed max:, e.g. "
                  "metrics.cost.usd_per_million_output_tokens,metrics.ttft_s.p99");
  sub->add_option("--pareto-out", o->pareto_out, "Write the Pareto frontier to FILE instead of stdout");
  return {sub, [o] { return run_sweep_command(*o); }};
}

}  // namespace infersim::cli
