#pragma once
// Long calls run with the GIL released, and Ctrl-C stops them: while the call runs, the library's
// cancellation polls (core/cancel.hpp) take the GIL now and then on the calling thread and ask Python
// whether a signal arrived (PyErr_CheckSignals). When one did, the library throws Cancelled, and the error
// Python raised for the signal (KeyboardInterrupt) is raised from the call.

#include <utility>

#include <pybind11/pybind11.h>

#include "infersim/core/cancel.hpp"

namespace infersim::python {

/// The cancellation check: takes the GIL, runs Python's signal handlers; true when one raised.
bool python_signal_raised();

/// Raise (as the current Python error) the exception that a signal handler raised during the last call on
/// this thread, or KeyboardInterrupt when none was kept.
void restore_signal_error();

/// Run `fn` with the GIL released, cancellable with Ctrl-C. Convert its result to Python objects after.
template <typename Fn>
auto without_gil(Fn&& fn) {
  CancellationScope scope(&python_signal_raised);
  pybind11::gil_scoped_release release;
  return std::forward<Fn>(fn)();
}

}  // namespace infersim::python
