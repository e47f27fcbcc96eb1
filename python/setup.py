"""Build hook: ship the `judgepanel` binary inside the wheel.

Unless JUDGEPANEL_BIN is set (then the package uses that binary at run time and the build skips Swift) or
JUDGEPANEL_SKIP_SWIFT_BUILD=1, building the package runs `swift build -c release --product judgepanel` in the
repository this directory belongs to and copies the binary to judgepanel/bin/. Without a Swift toolchain the wheel
is built without it and the package looks for `judgepanel` on PATH at run time.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
REPO = Path(os.environ.get("JUDGEPANEL_SOURCE", HERE.parent))


def _want_binary():
    if os.environ.get("JUDGEPANEL_BIN") or os.environ.get("JUDGEPANEL_SKIP_SWIFT_BUILD") == "1":
        return False
    return (REPO / "Package.swift").is_file() and shutil.which("swift") is not None


class BuildWithBinary(build_py):
    def run(self):
        super().run()
        if not _want_binary():
            print("judgepanel: not building the Swift binary (JUDGEPANEL_BIN set, skipped, or no swift/Package.swift)",
                  file=sys.stderr)
            return
        cmd = ["swift", "build", "-c", "release", "--product", "judgepanel"]
        jobs = os.environ.get("JUDGEPANEL_SWIFT_JOBS")
        if jobs:
            cmd += ["-j", jobs]
        print("judgepanel: " + " ".join(cmd), file=sys.stderr)
        subprocess.check_call(cmd, cwd=REPO)
        bindir = subprocess.check_output(cmd[:4] + ["--show-bin-path"], cwd=REPO, text=True).strip()
        target = Path(self.build_lib) / "judgepanel" / "bin"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(bindir) / "judgepanel", target / "judgepanel")


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        # A wheel that carries the native binary is platform-specific.
        return _want_binary()


setup(cmdclass={"build_py": BuildWithBinary}, distclass=BinaryDistribution)
