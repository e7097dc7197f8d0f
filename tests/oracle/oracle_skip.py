"""How an oracle test that cannot run says so.

By hand (a plain `ctest`), a missing Python module is a skip: exit 77, which ctest reports as
Skipped with the reason printed here. Under scripts/test.sh (KILN_REQUIRE_ORACLES=1) it is a
failure: an oracle that silently does not run proves nothing on that machine, so the test
command must not pass without it.
"""
import os
import sys


def skip(reason):
    if os.environ.get("KILN_REQUIRE_ORACLES") == "1":
        print(f"FAIL: this oracle cannot run: {reason} (KILN_REQUIRE_ORACLES=1: scripts/test.sh "
              f"requires every oracle; python is {sys.executable})")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(77)
