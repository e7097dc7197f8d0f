# kiln's required libraries, from Debian packages (scripts/deps.sh installs them):
#   hwloc (libhwloc-dev): CPU topology, thread pinning, cache sizes for benchmarks
#   cJSON (libcjson-dev): Google Benchmark JSON
#   pthreads
# Found through pkg-config so cross builds (PKG_CONFIG_LIBDIR) find the target's copies.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(KILN_HWLOC IMPORTED_TARGET hwloc)
if(NOT KILN_HWLOC_FOUND)
  message(FATAL_ERROR "kiln needs hwloc: run scripts/deps.sh (or apt-get install libhwloc-dev)")
endif()
pkg_check_modules(KILN_CJSON IMPORTED_TARGET libcjson)
if(NOT KILN_CJSON_FOUND)
  message(FATAL_ERROR "kiln needs cJSON: run scripts/deps.sh (or apt-get install libcjson-dev)")
endif()

add_library(kiln::hwloc ALIAS PkgConfig::KILN_HWLOC)
add_library(kiln::cjson ALIAS PkgConfig::KILN_CJSON)
message(STATUS "kiln: hwloc ${KILN_HWLOC_VERSION}, cJSON ${KILN_CJSON_VERSION}")
