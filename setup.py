"""Build script: compiles the cffi extension tensorcore._C and the plain C library."""

import glob
import os
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)  # source paths below are relative to the project root
sys.path.insert(0, os.path.join(HERE, "csrc"))
from ffi_build import CSRC_DIR, PY_DIR, compile_args, header_depends  # noqa: E402  (same flags as tensorcore._C)

# The plain C library lands in tensorcore/lib (in place for editable installs too).
os.makedirs(os.path.join(HERE, "tensorcore", "lib"), exist_ok=True)
# The public header ships inside the package (tensorcore.get_include()).
os.makedirs(os.path.join(HERE, "tensorcore", "include"), exist_ok=True)
shutil.copy2(os.path.join(HERE, "csrc", "tensorcore.h"),
             os.path.join(HERE, "tensorcore", "include", "tensorcore.h"))


class BuildExt(build_ext):
    """build_ext that names the plain C library libtensorcore.so (no Python ABI tag) and
    compiles each C source once per run: tensorcore._C and the plain library are built from
    the same csrc/*.c with the same flags, so the second links the first one's objects."""

    def build_extensions(self):
        compile_all = self.compiler.compile
        compiled = set()      # (source, options) compiled by this process: never a stale file

        def compile_once(sources, output_dir=None, macros=None, include_dirs=None, debug=0,
                         extra_preargs=None, extra_postargs=None, depends=None):
            options = (output_dir, repr(macros), tuple(include_dirs or ()), debug,
                       tuple(extra_preargs or ()), tuple(extra_postargs or ()))
            todo = [source for source in sources if (source, options) not in compiled]
            if todo:
                compile_all(todo, output_dir=output_dir, macros=macros,
                            include_dirs=include_dirs, debug=debug, extra_preargs=extra_preargs,
                            extra_postargs=extra_postargs, depends=depends)
                compiled.update((source, options) for source in todo)
            return self.compiler.object_filenames(sources, output_dir=output_dir)

        self.compiler.compile = compile_once
        super().build_extensions()

    def get_ext_filename(self, fullname):
        filename = super().get_ext_filename(fullname)
        if fullname.split(".")[-1] == "libtensorcore":   # called with full and short names
            plain = "libtensorcore" + (".dylib" if sys.platform == "darwin" else ".so")
            return os.path.join(os.path.dirname(filename), plain)
        return filename


cflags, ldflags, macros = compile_args()
soname = [] if sys.platform == "darwin" else ["-Wl,-soname,libtensorcore.so"]
libtensorcore = Extension(
    "tensorcore.lib.libtensorcore",     # a plain shared library: never imported by Python
    sources=sorted(glob.glob(os.path.join("csrc", "*.c"))),  # relative: setuptools wants it
    include_dirs=[CSRC_DIR, PY_DIR],    # as tensorcore._C's, so BuildExt shares the objects
    depends=header_depends(),           # a header-only change rebuilds (tensorcore._C's too)
    define_macros=macros,
    extra_compile_args=cflags,
    extra_link_args=ldflags + soname,
    libraries=["m"],
)

setup(cffi_modules=["csrc/ffi_build.py:ffibuilder"], ext_modules=[libtensorcore],
      cmdclass={"build_ext": BuildExt})
