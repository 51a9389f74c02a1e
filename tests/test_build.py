"""The build declares every C header as a dependency of both compiled libraries: setuptools
rebuilds an extension only when one of its sources or depends is newer than the built file, so
a header missing from depends lets a header-only change leave a stale library in a dev tree."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Runs setup.py with setuptools.setup replaced by a recorder, then lets cffi's setuptools hook
# turn cffi_modules into its Extension, and prints each extension's name and depends.
_PROBE = r"""
import json, runpy, setuptools
from setuptools.dist import Distribution
captured = {}
setuptools.setup = lambda **kw: captured.update(kw)
runpy.run_path("setup.py", run_name="__main__")
dist = Distribution({"cffi_modules": captured["cffi_modules"],
                     "ext_modules": list(captured["ext_modules"])})
dist.finalize_options()
print(json.dumps({ext.name: list(ext.depends) for ext in dist.ext_modules}))
"""


def test_every_header_is_a_build_dependency_of_both_libraries():
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    depends = json.loads(out.strip().splitlines()[-1])
    assert set(depends) == {"tensorcore._C", "tensorcore.lib.libtensorcore"}, depends
    headers = {path.relative_to(ROOT).as_posix()
               for pattern in ("csrc/*.h", "csrc/python/*.h") for path in ROOT.glob(pattern)}
    assert {"csrc/tc_internal.h", "csrc/tensorcore.h", "csrc/python/tc_py.h"} <= headers
    for name, listed in depends.items():
        listed = {pathlib.PurePath(path).as_posix() for path in listed}
        missing = headers - listed
        assert not missing, f"{name}: headers missing from depends= {sorted(missing)}"
