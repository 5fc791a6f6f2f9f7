#pragma once
// A sweep file (contract: sweep file): a base scenario and the keys to vary.
//
//   {"base": SCENARIO or PATH, "grid": {"dotted.key": [v, ...], ...}, "zip": {"dotted.key": [v, ...], ...}}
//
// Points are the cartesian product of the grid's value lists and the zip's rows (the zip's lists vary
// together, so they must have equal lengths). Order, which every output, shard and resume relies on:
// grid keys in file order with the last one varying fastest, then the zip row, fastest of all; i.e. the
// zip behaves as one more grid axis after the last grid key. Point i is the i-th of that order, from 0.

#include <cstddef>
#include <string>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace infersim::sweep {

/// One swept key and its values, in file order.
struct Axis {
  std::string key;
  std::vector<config::Json> values;
};

/// `--shard I/N`: this run does the points i with i % N == I (round robin, so that expensive corners of a
/// grid spread over every shard).
struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;
  bool contains(std::size_t point) const { return point % count == index; }
  /// Points of a sweep of `total` points that fall in this shard.
  std::size_t size(std::size_t total) const { return total > index ? (total - index + count - 1) / count : 0; }
};

/// Parse "I/N" with 0 <= I < N; throws UsageError.
Shard parse_shard(const std::string& text);

struct SweepSpec {
  std::string file;          // the sweep file, for messages
  config::Document base;     // the base scenario (a file, or the inline object at /base)
  std::vector<Axis> grid;    // file order
  std::vector<Axis> zip;     // file order; equal lengths

  std::size_t points() const;
  /// The swept keys: grid keys, then zip keys. The first columns of every output row.
  std::vector<std::string> keys() const;
  /// The value of every key (in keys() order) at a point < points().
  std::vector<config::Json> values(std::size_t point) const;
  /// The point as `--set` overrides of the base scenario.
  std::vector<scenario::Override> overrides(std::size_t point) const;
};

/// Parse a sweep file's text. `file` names it in messages; relative paths resolve against `base_dir`.
/// Throws ConfigError with every problem found.
SweepSpec parse_sweep(const std::string& text, const std::string& file, const std::filesystem::path& base_dir);

/// Parsing pieces shared with other files built on a base scenario (plan files):
/// `base` (a scenario object, or a path resolved against `base_dir`) read from `root`; an invalid or
/// missing one is reported and an empty Document returned.
config::Document read_base(config::ObjectReader& root, const std::string& file, const std::filesystem::path& base_dir);
/// An object of dotted keys to non-empty lists of values, in file order (`plain` is the same section, for
/// describing values in messages; `pointer` is its JSON pointer).
std::vector<Axis> read_axes(const nlohmann::ordered_json& section, const config::Json& plain, const std::string& pointer,
                            config::Diagnostics& d);
/// Report a key swept twice (the second under `second_pointer`) and two keys of which one sets part of the other.
void check_swept_keys(const std::vector<std::string>& keys, const std::string& second_pointer, config::Diagnostics& d);

/// Read and parse a sweep file.
SweepSpec load_sweep(const std::string& path);

}  // namespace infersim::sweep
