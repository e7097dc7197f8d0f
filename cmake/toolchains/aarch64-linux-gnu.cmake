# Cross build for 64-bit Arm (NEON kernels) with Debian's gcc-aarch64-linux-gnu; the arm64
# copies of hwloc and cJSON come from Debian multiarch (scripts/deps.sh). ctest runs the
# binaries under qemu-aarch64 through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# No -L sysroot: the arm64 glibc comes from Debian multiarch (libc6:arm64, pulled in with
# libhwloc-dev:arm64); mixing it with the cross sysroot's copy hangs pthread_create under qemu 7.2.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
