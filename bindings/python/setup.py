"""Build hooks: remember the source tree the package came from, so an installed copy finds the
library built there; optionally bundle a built library (``ACS_CHAT_BUNDLE_LIBRARY=<path>``)."""

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


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


setup(cmdclass={"build_py": BuildPy})
