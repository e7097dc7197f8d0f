"""Bundles libkiln.so into the package (kiln/_lib/) at build time.

Where the library comes from, first found: $KILN_LIBRARY, then ../build/libkiln.so (the README's
build folder). None found: the package installs without it and needs KILN_LIBRARY at import time.
The wheel is then platform-specific (it carries a native library), so it is tagged as such.
"""
import os
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

here = os.path.dirname(os.path.abspath(__file__))


def find_library():
    env = os.environ.get("KILN_LIBRARY")
    if env:
        if not os.path.isfile(env):
            sys.exit(f"kiln: KILN_LIBRARY={env} is not a file")
        return env
    candidate = os.path.join(here, "..", "build", "libkiln.so")
    return candidate if os.path.isfile(candidate) else None


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = find_library()
        target = os.path.join(self.build_lib, "kiln", "_lib")
        os.makedirs(target, exist_ok=True)
        if lib:
            shutil.copy2(os.path.realpath(lib), os.path.join(target, "libkiln.so"))
            print(f"kiln: bundled {os.path.realpath(lib)}")
        else:
            print("kiln: no libkiln.so found (build it with CMake, or set KILN_LIBRARY); "
                  "the installed package will need KILN_LIBRARY at import time")


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
