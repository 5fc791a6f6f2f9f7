#pragma once
// The library's typed errors as Python exceptions, with the messages the command line prints:
//   infersim.Error (Exception)
//     ConfigError (also ValueError): bad input files or values; .diagnostics lists {file, path, message}
//     InfeasibleError: a valid configuration that cannot run (a model that does not fit, ...)
//     UsageError (also ValueError): a bad argument (an unknown catalog kind, a data type, ...)
//     InternalError (also RuntimeError): a fault inside infersim
// Cancelled (Ctrl-C inside a long call) comes back as the KeyboardInterrupt Python raised.

#include <pybind11/pybind11.h>

namespace infersim::python {

void register_errors(pybind11::module_& m);

}  // namespace infersim::python
