#include "cancel_hook.hpp"

namespace infersim::python {

namespace {

// The error a signal handler raised, fetched so that it survives until the call unwinds to Python.
struct KeptError {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
};
thread_local KeptError t_kept;

}  // namespace

bool python_signal_raised() {
  pybind11::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() == 0) return false;
  Py_XDECREF(t_kept.type);
  Py_XDECREF(t_kept.value);
  Py_XDECREF(t_kept.traceback);
  PyErr_Fetch(&t_kept.type, &t_kept.value, &t_kept.traceback);
  return true;
}

void restore_signal_error() {
  if (t_kept.type) {
    PyErr_Restore(t_kept.type, t_kept.value, t_kept.traceback);  // steals the references
    t_kept = KeptError{};
  } else {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
  }
}

}  // namespace infersim::python
