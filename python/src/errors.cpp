#include "errors.hpp"

#include <exception>
#include <string>

#include "cancel_hook.hpp"
#include "infersim/core/cancel.hpp"
#include "infersim/core/error.hpp"

namespace py = pybind11;

namespace infersim::python {

namespace {

// Classes created once at import and never freed (the interpreter owns them until it exits).
PyObject* g_config_error = nullptr;
PyObject* g_infeasible_error = nullptr;
PyObject* g_usage_error = nullptr;
PyObject* g_internal_error = nullptr;

PyObject* new_exception(py::module_& m, const char* name, PyObject* bases, const char* doc) {
  const std::string qualified = std::string("infersim.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (!cls) throw py::error_already_set();
  m.attr(name) = py::reinterpret_borrow<py::object>(cls);
  return cls;
}

void raise(PyObject* cls, const std::string& message, py::object diagnostics = py::list()) {
  py::object error = py::reinterpret_borrow<py::object>(cls)(message);
  error.attr("diagnostics") = std::move(diagnostics);
  PyErr_SetObject(cls, error.ptr());
}

}  // namespace

void register_errors(py::module_& m) {
  PyObject* base = new_exception(m, "Error", PyExc_Exception, "Any error infersim reports.");
  py::tuple config_bases = py::make_tuple(py::handle(base), py::handle(PyExc_ValueError));
  g_config_error = new_exception(m, "ConfigError", config_bases.ptr(),
                                 "Bad configuration: file, JSON path, what was expected (every problem found).");
  g_infeasible_error = new_exception(m, "InfeasibleError", base,
                                     "A valid configuration that cannot run, e.g. a model that does not fit.");
  py::tuple usage_bases = py::make_tuple(py::handle(base), py::handle(PyExc_ValueError));
  g_usage_error = new_exception(m, "UsageError", usage_bases.ptr(), "A bad argument.");
  py::tuple internal_bases = py::make_tuple(py::handle(base), py::handle(PyExc_RuntimeError));
  g_internal_error = new_exception(m, "InternalError", internal_bases.ptr(),
                                   "A fault inside infersim (please report it with the inputs that caused it).");

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      py::list diagnostics;
      for (const auto& d : e.diagnostics()) {
        diagnostics.append(py::dict(py::arg("file") = d.file, py::arg("path") = d.path, py::arg("message") = d.message));
      }
      raise(g_config_error, e.what(), diagnostics);
    } catch (const InfeasibleError& e) {
      raise(g_infeasible_error, e.what());
    } catch (const UsageError& e) {
      raise(g_usage_error, e.what());
    } catch (const Cancelled&) {
      restore_signal_error();
    } catch (const py::error_already_set&) {
      throw;  // a Python error: pybind11 restores it
    } catch (const py::builtin_exception&) {
      throw;
    } catch (const std::exception& e) {
      raise(g_internal_error, std::string("internal error: ") + e.what());
    }
  });
}

}  // namespace infersim::python
