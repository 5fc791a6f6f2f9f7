#include "infersim/validation/measurement.hpp"

#include "infersim/core/error.hpp"

namespace infersim::validation {

using config::Json;
using config::ObjectReader;
using config::Range;

namespace {

constexpr std::string_view kKinds[] = {"scenario", "ratio", "operator", "gemm", "all_reduce", "copy", "all_to_all"};
constexpr std::string_view kTransforms[] = {"identity", "reciprocal"};
constexpr std::string_view kPhases[] = {"prefill", "decode"};
constexpr std::string_view kOperations[] = {"dispatch", "combine"};

std::vector<std::pair<std::string, Json>> read_set(ObjectReader& r, std::string_view key) {
  std::vector<std::pair<std::string, Json>> out;
  const Json* v = r.raw(key);
  if (!v) return out;
  if (!v->is_object()) {
    r.error(key, "expected an object of dotted keys and values, found " + config::describe_json(*v));
    return out;
  }
  for (auto it = v->begin(); it != v->end(); ++it) out.emplace_back(it.key(), it.value());
  return out;
}

}  // namespace

std::vector<MeasurementRow> load_measurements(const std::vector<std::string>& paths) {
  std::vector<MeasurementRow> rows;
  std::vector<Diagnostic> problems;
  for (const auto& path : paths) {
    const config::Document doc = config::load_document(path);
    config::Diagnostics d(doc.file);
    ObjectReader root(doc.json, "", d);
    root.string_or("description", "");
    root.string_or("source", "");
    const Json* list = root.raw("rows");
    if (!list || !list->is_array() || list->empty()) {
      // No rows would report a 0% median error: a guard would pass on a file emptied by mistake.
      root.error("rows", "expected a non-empty list of measurement rows" +
                             (list ? ", found " + (list->is_array() ? std::string("an empty list") : config::describe_json(*list)) : std::string()));
    } else {
      for (std::size_t i = 0; i < list->size(); ++i) {
        ObjectReader r((*list)[i], "/rows/" + std::to_string(i), d);
        MeasurementRow row;
        row.file = doc.file;
        row.id = r.string("id");
        row.category = r.string("category");
        row.group = r.string_or("group", "");
        row.hardware = r.string("hardware");
        row.system = r.string_or("system", row.hardware);
        row.measured = r.number("measured", Range::positive());
        row.unit = r.string("unit");
        row.source = r.string("source");
        row.assumptions = r.string_or("assumptions", "");
        const std::size_t problems_before = d.items().size();
        row.kind = static_cast<RowKind>(r.choice("kind", kKinds));
        if (d.items().size() > problems_before) continue;  // unknown kind: its other keys cannot be checked
        switch (row.kind) {
          case RowKind::scenario:
          case RowKind::ratio: {
            const Json* sc = r.raw("scenario");
            if (!sc) {
              r.error("scenario", "missing required key; expected a scenario path or object");
            } else if (sc->is_string()) {
              try {
                row.scenario = config::load_document(config::resolve_path(doc.base_dir, sc->get<std::string>()));
              } catch (const ConfigError& e) {
                for (const auto& item : e.diagnostics()) d.error_in(item.file, item.path, item.message);
              }
            } else {
              row.scenario = config::Document{*sc, doc.file, r.child_path("scenario"), doc.base_dir};
            }
            row.set = read_set(r, "set");
            row.metric = r.string("metric");
            row.scale = r.number_or("scale", 1.0, Range::positive());
            if (row.kind == RowKind::scenario) {
              row.transform = std::string(kTransforms[r.choice("transform", kTransforms, 0)]);
            } else {
              row.baseline_set = read_set(r, "baseline_set");
              row.variant_set = read_set(r, "variant_set");
            }
            break;
          }
          case RowKind::op:
            row.model = r.string("model");
            row.tensor_parallel = static_cast<int>(r.integer_or("tensor_parallel", 1, Range::between(1, 4096)));
            row.dtype = r.dtype_or("dtype", DType::bf16);
            row.phase = std::string(kPhases[r.choice("phase", kPhases, 1)]);
            row.batch = r.integer("batch", Range::between(1, 1e7));
            row.context = r.integer("context", Range::between(1, 1e8));
            row.op = r.string("operator");
            break;
          case RowKind::gemm:
            row.m = r.number("m", Range::positive());
            row.n = r.number("n", Range::positive());
            row.k = r.number("k", Range::positive());
            row.dtype = r.dtype("dtype");
            // Whose weights: only their FP8 scaling matters (block-scaled or per tensor); none = per tensor.
            row.model = r.string_or("model", "");
            break;
          case RowKind::all_reduce:
            row.chips = static_cast<int>(r.integer("chips", Range::between(2, 1e5)));
            row.bytes = r.number("bytes", Range::positive());
            break;
          case RowKind::copy:
            row.bytes = r.number("bytes", Range::positive());
            break;
          case RowKind::all_to_all:
            row.operation = std::string(kOperations[r.choice("operation", kOperations)]);
            row.expert_parallel = static_cast<int>(r.integer("expert_parallel", Range::between(2, 1e5)));
            row.tokens_per_rank = static_cast<double>(r.integer("tokens_per_rank", Range::between(1, 1e8)));
            row.hidden = static_cast<double>(r.integer("hidden", Range::between(1, 1e7)));
            row.top_k = static_cast<double>(r.integer("top_k", Range::between(1, 1024)));
            row.bytes_per_element = r.number("bytes_per_element", Range::positive_up_to(8));
            row.num_experts = static_cast<double>(r.integer_or("num_experts", 0, Range::between(0, 1 << 20)));
            row.node_limit = static_cast<double>(r.integer_or("node_limit", 0, Range::between(0, 1 << 20)));
            if (row.num_experts > 0 && row.num_experts < row.top_k) {
              r.error("num_experts", "must be at least top_k (" + std::to_string(static_cast<int>(row.top_k)) + ")");
            }
            if (row.node_limit > 0 && row.num_experts <= 0) {
              r.error("node_limit", "needs num_experts (the per-node deduplicated all-to-all)");
            }
            break;
        }
        if (row.kind != RowKind::scenario && row.kind != RowKind::ratio && row.unit != "ms" && row.unit != "us" &&
            row.unit != "s" && !row.unit.empty()) {
          r.error("unit", "a time measurement is in \"ms\", \"us\" or \"s\", found \"" + row.unit + "\"");
        }
        for (const auto& other : rows) {
          if (other.id == row.id && !row.id.empty()) {
            r.error("id", "duplicate row id \"" + row.id + "\" (also in " + other.file + ")");
            break;
          }
        }
        r.finish();
        rows.push_back(std::move(row));
      }
    }
    root.finish();
    problems.insert(problems.end(), d.items().begin(), d.items().end());
  }
  if (!problems.empty()) throw ConfigError(problems);
  return rows;
}

}  // namespace infersim::validation
