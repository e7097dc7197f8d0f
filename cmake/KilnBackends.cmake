# Optional GPU backends. KILN_CUDA / KILN_VULKAN:
#   AUTO (default): built when its toolchain and its sources (backends/<name>/) are present;
#                   otherwise one status line says why and the build goes on without it.
#   ON: a missing toolchain is a configure error.   OFF: never built.
# `kiln info` reports a backend that was not built, or found no device, with the reason.

function(_kiln_backend_decision name mode found why)
  set(_reason "${why}" PARENT_SCOPE)
  if(mode STREQUAL "OFF")
    message(STATUS "kiln: ${name} backend disabled (KILN_${name}=OFF)")
    set(_reason "disabled at configure time (KILN_${name}=OFF)" PARENT_SCOPE)
    set(_build FALSE PARENT_SCOPE)
  elseif(found)
    message(STATUS "kiln: ${name} backend: building it")
    set(_build TRUE PARENT_SCOPE)
  elseif(mode STREQUAL "ON")
    message(FATAL_ERROR "kiln: KILN_${name}=ON but ${why}")
  else()
    message(STATUS "kiln: ${name} backend not built: ${why}")
    set(_build FALSE PARENT_SCOPE)
  endif()
endfunction()

# CUDA
set(KILN_HAVE_CUDA FALSE)
set(_cuda_found FALSE)
set(_cuda_why "")
if(NOT KILN_CUDA STREQUAL "OFF")
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/backends/cuda/CMakeLists.txt)
    set(_cuda_why "this source tree has no CUDA backend yet (backends/cuda/)")
  else()
    if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
      set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
    endif()
    include(CheckLanguage)
    check_language(CUDA)
    if(CMAKE_CUDA_COMPILER)
      set(_cuda_found TRUE)
    else()
      set(_cuda_why "no CUDA compiler found (install the CUDA toolkit in /usr/local/cuda)")
    endif()
  endif()
endif()
_kiln_backend_decision(CUDA "${KILN_CUDA}" ${_cuda_found} "${_cuda_why}")
set(KILN_HAVE_CUDA ${_build})
set(KILN_CUDA_ABSENT_REASON "${_reason}")
if(KILN_HAVE_CUDA)
  enable_language(CUDA)  # here, at directory scope: inside a function its variables would be lost
endif()

# Vulkan
set(KILN_HAVE_VULKAN FALSE)
set(_vk_found FALSE)
set(_vk_why "")
if(NOT KILN_VULKAN STREQUAL "OFF")
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/backends/vulkan/CMakeLists.txt)
    set(_vk_why "this source tree has no Vulkan backend yet (backends/vulkan/)")
  else()
    find_package(Vulkan QUIET COMPONENTS glslc)
    if(Vulkan_FOUND AND Vulkan_GLSLC_EXECUTABLE)
      set(_vk_found TRUE)
    else()
      set(_vk_why "no Vulkan loader or glslc found (apt-get install libvulkan-dev glslc)")
    endif()
  endif()
endif()
_kiln_backend_decision(VULKAN "${KILN_VULKAN}" ${_vk_found} "${_vk_why}")
set(KILN_HAVE_VULKAN ${_build})
set(KILN_VULKAN_ABSENT_REASON "${_reason}")

# Links the built backends into `target` and defines KILN_HAVE_<NAME> for registry.c.
function(kiln_add_backends target)
  target_compile_definitions(${target} PRIVATE
    KILN_CUDA_ABSENT_REASON="${KILN_CUDA_ABSENT_REASON}"
    KILN_VULKAN_ABSENT_REASON="${KILN_VULKAN_ABSENT_REASON}")
  if(KILN_HAVE_CUDA)
    add_subdirectory(backends/cuda)  # adds its sources and kernels to ${target}
    target_compile_definitions(${target} PUBLIC KILN_HAVE_CUDA)
  endif()
  if(KILN_HAVE_VULKAN)
    add_subdirectory(backends/vulkan)  # adds its sources and shaders to ${target}
    target_compile_definitions(${target} PUBLIC KILN_HAVE_VULKAN)
  endif()
endfunction()
