# Compiler flags shared by every infersim target, applied through an interface library.
add_library(infersim_options INTERFACE)
target_compile_features(infersim_options INTERFACE cxx_std_20)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(infersim_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                         -Wno-sign-conversion)
  # GCC 12 at -O3 (the release preset) reports -Wrestrict on `"literal" + std::string` inside libstdc++,
  # a false positive (GCC bug 105329); later GCCs do not.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(infersim_options INTERFACE -Wno-restrict)
  endif()
  if(INFERSIM_WARNINGS_AS_ERRORS)
    target_compile_options(infersim_options INTERFACE -Werror)
  endif()
  # -march on x86 only ("native": the building machine; "x86-64-v3": AVX2 + FMA, any x86 server since 2013).
  if(INFERSIM_ARCH STREQUAL "native" OR (INFERSIM_ARCH AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64"))
    target_compile_options(infersim_options INTERFACE -march=${INFERSIM_ARCH})
  endif()
  if(INFERSIM_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      message(FATAL_ERROR "INFERSIM_FUZZ needs clang (libFuzzer): configure with the `fuzz` preset or CMAKE_CXX_COMPILER=clang++")
    endif()
    # Coverage instrumentation everywhere; the fuzz executables add -fsanitize=fuzzer (libFuzzer's main) at link.
    target_compile_options(infersim_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(infersim_options INTERFACE -fsanitize=address,undefined)
  elseif(INFERSIM_SANITIZE)
    target_compile_options(infersim_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                           -fno-sanitize-recover=undefined)
    target_link_options(infersim_options INTERFACE -fsanitize=address,undefined)
  endif()
endif()
