"""Runs the GPUaaS integration suite (unittest, standard library only) and prints, as its last
line, "N passed, N failed" (errors count as failures; skips are listed, not counted).

Usage: python3 runner.py [-k PATTERN] [TEST_NAME ...]
  TEST_NAME: a module, class or method (e.g. test_cli or test_cli.CliTest.test_help).
"""

import argparse
import os
import sys
import time
import unittest


class CountingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0
        self.started = {}

    def startTest(self, test):
        self.started[test.id()] = time.monotonic()
        super().startTest(test)

    def addSuccess(self, test):
        self.passed += 1
        super().addSuccess(test)

    def stopTest(self, test):
        t0 = self.started.pop(test.id(), None)
        if t0 is not None and self.showAll:
            self.stream.writeln(f"    ({time.monotonic() - t0:.1f}s)")
        super().stopTest(test)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", dest="patterns", default=None,
                    help="only tests whose name contains this substring")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()

    binary = os.environ.get("GPUAAS_BIN", "")
    if binary and not os.access(binary, os.X_OK):
        print(f"{binary} does not exist: build it first (make build)")
        print("0 passed, 1 failed")
        return 1

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [f"*{p}*" for p in args.patterns]
    if args.names:
        suite = loader.loadTestsFromNames(args.names)
    else:
        suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)

    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    t0 = time.monotonic()
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    for test, reason in result.skipped:
        print(f"skipped: {test.id()}: {reason}")
    for test, _ in result.failures + result.errors:
        print(f"failed: {test.id()}")
    print(f"integration suite: {time.monotonic() - t0:.0f}s, {len(result.skipped)} skipped")
    print(f"{result.passed} passed, {failed} failed")
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
