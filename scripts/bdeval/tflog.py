"""TensorFlow's start-up lines on stderr: hidden unless --verbose (or BDEVAL_VERBOSE=1).

Loading TensorFlow prints C++ log lines (absl "All log messages before absl::InitializeLog()",
oneDNN, CUDA drivers, CPU features) and, on TF 1.15, numpy FutureWarnings. bdeval/__init__.py
calls quiet_tensorflow() before any module of the package imports TensorFlow: it sets
TF_CPP_MIN_LOG_LEVEL=3 (unless already set), which TensorFlow honours once it runs, and loads
the top-level `tensorflow` package with stderr (file descriptor 2) redirected to a temporary
file, because TF >= 2.17 writes its import lines through absl before that setting applies.
What the import wrote is dropped when it succeeds and written to stderr when it fails. A crash
inside the import itself (a signal) shows nothing: run again with --verbose.

With --verbose on the command line or BDEVAL_VERBOSE=1 (not 0 or empty) nothing is changed.
"""

import importlib.util
import os
import sys
import tempfile
from contextlib import contextmanager

VERBOSE_FLAG = "--verbose"
VERBOSE_ENV = "BDEVAL_VERBOSE"
HELP_LINE = (
    "\n{} (every script): also show TensorFlow's start-up log lines on stderr "
    "(or set {}=1)\n".format(VERBOSE_FLAG, VERBOSE_ENV)
)


def verbose_requested(argv=None, environ=None):
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    return VERBOSE_FLAG in argv or environ.get(VERBOSE_ENV, "") not in ("", "0")


@contextmanager
def hidden_stderr():
    """Send file descriptor 2 to a temporary file; on an exception, write what it got to stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode("utf-8", "replace"))
            sys.stderr.flush()
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


class _QuietLoader(object):
    """The wrapped loader's exec_module, run with stderr hidden; the module keeps the real one."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = self.loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self.loader
        with hidden_stderr():
            self.loader.exec_module(module)

    def __getattr__(self, name):
        return getattr(self.loader, name)


class QuietImport(object):
    """Meta path finder: the first import of top-level module `name` runs with stderr hidden."""

    def __init__(self, name):
        self.name = name
        self.looking = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name or self.looking:
            return None
        self.looking = True
        try:
            spec = importlib.util.find_spec(fullname)  # the other finders
        finally:
            self.looking = False
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # once is enough
        if spec is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow():
    """Hide TensorFlow's start-up lines unless verbose_requested(); see the module docstring."""
    if verbose_requested() or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not any(isinstance(f, QuietImport) and f.name == "tensorflow" for f in sys.meta_path):
        sys.meta_path.insert(0, QuietImport("tensorflow"))
