#pragma once
// The message of the exception a call throws, for tests of error messages.

#include <exception>
#include <functional>
#include <string>

namespace infersim::testing {

/// What `f` throws, as text; "(no error)" when it returns.
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace infersim::testing
