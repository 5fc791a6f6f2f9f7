#include "infersim/sweep/sweep_spec.hpp"

#include <charconv>
#include <limits>

#include "infersim/core/error.hpp"
#include "infersim/sweep/evaluate.hpp"
#include "infersim/sweep/text_file.hpp"

namespace infersim::sweep {

using config::Json;

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  Shard s;
  auto number = [](std::string_view part, std::size_t& out) {
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && end == part.data() + part.size() && !part.empty();
  };
  const std::string_view t(text);
  if (slash == std::string::npos || !number(t.substr(0, slash), s.index) || !number(t.substr(slash + 1), s.count) ||
      s.count == 0 || s.index >= s.count) {
    throw UsageError("--shard " + text + ": expected I/N with 0 <= I < N, e.g. --shard 0/4 for the first of four shards");
  }
  return s;
}

std::size_t SweepSpec::points() const {
  std::size_t n = 1;
  for (const Axis& a : grid) n *= a.values.size();
  if (!zip.empty()) n *= zip.front().values.size();
  return n;
}

std::vector<std::string> SweepSpec::keys() const {
  std::vector<std::string> out;
  for (const Axis& a : grid) out.push_back(a.key);
  for (const Axis& a : zip) out.push_back(a.key);
  return out;
}

std::vector<Json> SweepSpec::values(std::size_t point) const {
  std::vector<Json> out(grid.size() + zip.size());
  std::size_t rest = point;
  if (!zip.empty()) {
    const std::size_t rows = zip.front().values.size();
    for (std::size_t k = 0; k < zip.size(); ++k) out[grid.size() + k] = zip[k].values[rest % rows];
    rest /= rows;
  }
  for (std::size_t k = grid.size(); k-- > 0;) {
    out[k] = grid[k].values[rest % grid[k].values.size()];
    rest /= grid[k].values.size();
  }
  return out;
}

std::vector<scenario::Override> SweepSpec::overrides(std::size_t point) const {
  const auto ks = keys();
  auto vs = values(point);
  std::vector<scenario::Override> out;
  for (std::size_t k = 0; k < ks.size(); ++k) out.push_back(make_override(ks[k], std::move(vs[k])));
  return out;
}

std::vector<Axis> read_axes(const nlohmann::ordered_json& section, const Json& plain, const std::string& pointer,
                            config::Diagnostics& d) {
  std::vector<Axis> out;
  if (!section.is_object()) {
    d.error(pointer, "expected an object of dotted scenario keys to lists of values, found " + config::describe_json(plain));
    return out;
  }
  for (auto it = section.begin(); it != section.end(); ++it) {
    const std::string& key = it.key();
    const std::string at = pointer + "/" + config::pointer_escape(key);
    if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos) {
      d.error(at, "expected a dotted scenario key such as \"workload.arrival.rate_per_s\", found \"" + key + "\"");
      continue;
    }
    if (!it->is_array() || it->empty()) {
      d.error(at, "expected a non-empty list of values, found " +
                      (it->is_array() ? std::string("an empty list") : config::describe_json(plain.at(key))));
      continue;
    }
    Axis a{key, {}};
    for (const auto& v : *it) a.values.push_back(Json::parse(v.dump()));
    out.push_back(std::move(a));
  }
  return out;
}

config::Document read_base(config::ObjectReader& root, const std::string& file, const std::filesystem::path& base_dir) {
  config::Document out;
  config::Diagnostics& d = root.diagnostics();
  const Json* base = root.raw("base");
  if (!base) {
    if (root.valid()) root.error("base", "missing required key; expected the base scenario: an object, or a path to a scenario file");
  } else if (base->is_string()) {
    const auto path = config::resolve_path(base_dir, base->get<std::string>());
    try {
      out = config::load_document(path);
    } catch (const ConfigError& e) {
      for (const auto& item : e.diagnostics()) d.error_in(item.file, item.path, item.message);
    }
  } else if (base->is_object()) {
    out = config::Document{*base, file, "/base", base_dir};
  } else {
    root.error("base", "expected a scenario object or a path to a scenario file, found " + config::describe_json(*base));
  }
  return out;
}

namespace {

using Ordered = nlohmann::ordered_json;

bool is_prefix_path(const std::string& a, const std::string& b) { return b.size() > a.size() && b.starts_with(a) && b[a.size()] == '.'; }

}  // namespace

void check_swept_keys(const std::vector<std::string>& keys, const std::string& second_pointer, config::Diagnostics& d) {
  for (std::size_t a = 0; a < keys.size(); ++a) {
    for (std::size_t b = 0; b < keys.size(); ++b) {
      if (a < b && keys[a] == keys[b]) {
        d.error(second_pointer + "/" + config::pointer_escape(keys[b]), "\"" + keys[b] + "\" is in both grid and zip; sweep it in one of them");
      } else if (is_prefix_path(keys[a], keys[b])) {
        d.error("", "\"" + keys[a] + "\" and \"" + keys[b] + "\" are both swept, and one sets part of the other; "
                    "sweep only one of them");
      }
    }
  }
}

SweepSpec parse_sweep(const std::string& text, const std::string& file, const std::filesystem::path& base_dir) {
  const Json j = config::parse_json_text(text, file);
  const Ordered ordered = Ordered::parse(text);  // the same document, keeping the order of keys
  config::Diagnostics d(file);
  config::ObjectReader root(j, "", d);
  SweepSpec spec;
  spec.file = file;
  (void)root.string_or("name", "");
  (void)root.string_or("description", "");
  spec.base = read_base(root, file, base_dir);
  if (root.has("grid")) spec.grid = read_axes(ordered.at("grid"), j.at("grid"), "/grid", d);
  if (root.has("zip")) spec.zip = read_axes(ordered.at("zip"), j.at("zip"), "/zip", d);
  root.finish();

  if (!spec.zip.empty()) {
    const std::size_t rows = spec.zip.front().values.size();
    bool equal = true;
    std::string lengths;
    for (const Axis& a : spec.zip) {
      equal = equal && a.values.size() == rows;
      lengths += (lengths.empty() ? "" : ", ") + a.key + " has " + std::to_string(a.values.size());
    }
    if (!equal) d.error("/zip", "the lists of a zip vary together and must have equal lengths: " + lengths);
  }
  check_swept_keys(spec.keys(), "/zip", d);
  double count = 1;
  for (const Axis& a : spec.grid) count *= static_cast<double>(a.values.size());
  if (!spec.zip.empty()) count *= static_cast<double>(spec.zip.front().values.size());
  if (count > 1e9) d.error("", "the sweep has " + std::to_string(count) + " points; at most 1e9 are supported");
  d.throw_if_any();
  return spec;
}

SweepSpec load_sweep(const std::string& path) {
  return parse_sweep(read_text_file(path), path, std::filesystem::path(path).parent_path());
}

}  // namespace infersim::sweep
