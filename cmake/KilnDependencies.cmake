# kiln's required libraries, from Debian packages (scripts/deps.sh installs them):
#   hwloc (libhwloc-dev): CPU topology, thread pinning, cache sizes for benchmarks
#   cJSON (libcjson-dev): Google Benchmark JSON
#   SQLite (libsqlite3-dev): the results history (bench/history/history_db.h)
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

pkg_check_modules(KILN_SQLITE IMPORTED_TARGET sqlite3)
if(NOT KILN_SQLITE_FOUND)
  message(FATAL_ERROR "kiln needs SQLite: run scripts/deps.sh (or apt-get install libsqlite3-dev)")
endif()

add_library(kiln::hwloc ALIAS PkgConfig::KILN_HWLOC)
add_library(kiln::cjson ALIAS PkgConfig::KILN_CJSON)
add_library(kiln::sqlite ALIAS PkgConfig::KILN_SQLITE)
message(STATUS "kiln: hwloc ${KILN_HWLOC_VERSION}, cJSON ${KILN_CJSON_VERSION}, SQLite ${KILN_SQLITE_VERSION}")
