"""Build hooks: remember the source tree the package came from, so an installed copy finds the
library built there; optionally bundle a built library (``ACS_CHAT_BUNDLE_LIBRARY=<path>``), which
makes the wheel platform-specific (``py3-none-<platform>``: any Python 3, this platform only)."""

import os
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1 takes it from the wheel package
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None


def _source_root() -> "Path | None":
    here = Path(__file__).resolve().parent
    for directory in [here, *here.parents]:
        cargo = directory / "Cargo.toml"
        if cargo.is_file() and 'name = "acs_chat"' in cargo.read_text(encoding="utf-8"):
            return directory
    return None


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package_dir = Path(self.build_lib) / "acs_chat"
        root = _source_root()
        if root is not None:
            (package_dir / "_source_root.txt").write_text(str(root) + "\n", encoding="utf-8")
        bundle = os.environ.get("ACS_CHAT_BUNDLE_LIBRARY")
        if bundle:
            shutil.copy2(bundle, package_dir / Path(bundle).name)


class BundlingDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        # A bundled native library makes the package platform-specific (installed to platlib).
        return bool(os.environ.get("ACS_CHAT_BUNDLE_LIBRARY")) or super().has_ext_modules()


cmdclass = {"build_py": BuildPy}

if bdist_wheel is not None:

    class BdistWheel(bdist_wheel):
        def get_tag(self):
            python, abi, platform = super().get_tag()
            if os.environ.get("ACS_CHAT_BUNDLE_LIBRARY"):
                # ctypes only: any Python 3 will do, but the bundled library fixes the platform.
                return "py3", "none", platform
            return python, abi, platform

    cmdclass["bdist_wheel"] = BdistWheel

setup(cmdclass=cmdclass, distclass=BundlingDistribution)
