#pragma once

#include "infersim/config/catalog.hpp"
#include "infersim/hardware/hardware_spec.hpp"

namespace infersim::hardware {

/// Parse a hardware profile. Every problem is collected into `diagnostics`; the returned spec is only
/// meaningful when no error was added.
HardwareSpec parse_hardware(const config::Document& doc, config::Diagnostics& diagnostics);

/// Parse or throw ConfigError.
HardwareSpec load_hardware(const config::Document& doc);

/// Load a catalog entry by name (or a path), throwing ConfigError.
HardwareSpec load_hardware(const std::string& name_or_path);

}  // namespace infersim::hardware
