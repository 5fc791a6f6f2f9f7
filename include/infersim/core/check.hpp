#pragma once
// Invariant checks (docs/reliability.md). A failed check is a bug in infersim, never bad input: it throws
// std::logic_error, which the command line reports as an internal error (exit 3), so that a broken invariant
// stops the run instead of printing a wrong number.
//   INFERSIM_CHECK(cond, message)        always on: O(1) checks off the innermost loops.
//   INFERSIM_DEBUG_CHECK(cond, message)  debug builds (NDEBUG undefined, e.g. the asan preset) or with
//                                        INFERSIM_DEBUG_CHECKS defined: checks that cost O(n) per event.
// `message` is evaluated only when the check fails.

#include <string>

namespace infersim::detail {
[[noreturn]] void check_failed(const char* condition, const char* file, int line, const std::string& message);
}  // namespace infersim::detail

#define INFERSIM_CHECK(cond, message)                                              \
  do {                                                                             \
    if (!(cond)) [[unlikely]] {                                                    \
      ::infersim::detail::check_failed(#cond, __FILE__, __LINE__, (message));      \
    }                                                                              \
  } while (0)

#if !defined(NDEBUG) || defined(INFERSIM_DEBUG_CHECKS)
#define INFERSIM_DEBUG_CHECKS_ENABLED 1
#define INFERSIM_DEBUG_CHECK(cond, message) INFERSIM_CHECK(cond, message)
#else
#define INFERSIM_DEBUG_CHECKS_ENABLED 0
#define INFERSIM_DEBUG_CHECK(cond, message) \
  do {                                      \
    (void)sizeof(cond);                     \
  } while (0)
#endif
