# Compiler flags shared by every infersim target, applied through an interface library.
add_library(infersim_options INTERFACE)
target_compile_features(infersim_options INTERFACE cxx_std_20)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(infersim_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                         -Wno-sign-conversion)
  if(INFERSIM_WARNINGS_AS_ERRORS)
    target_compile_options(infersim_options INTERFACE -Werror)
  endif()
  # -march on x86 only ("native": the building machine; "x86-64-v3": AVX2 + FMA, any x86 server since 2013).
  if(INFERSIM_ARCH STREQUAL "native" OR (INFERSIM_ARCH AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64"))
    target_compile_options(infersim_options INTERFACE -march=${INFERSIM_ARCH})
  endif()
  if(INFERSIM_SANITIZE)
    target_compile_options(infersim_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                           -fno-sanitize-recover=undefined)
    target_link_options(infersim_options INTERFACE -fsanitize=address,undefined)
  endif()
endif()
