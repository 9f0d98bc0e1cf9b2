"""The code that runs in the TF 1.15 container (Python 3.8) and on the legacy stack (3.7).

- vermin: the minimum Python version of every script, bdeval module and the container's
  self-test is at most 3.7 (so at most the image's 3.8);
- a real Python 3.8, where pyenv or PATH has one, compiles all of it;
- every import is the standard library, the local code, or a package the image has
  (numpy, h5py, PIL, tensorflow, matplotlib, yaml), except imports guarded by
  `try: ... except ImportError:` (or a broader except);
- the container's self-test (containers/selftest.py, its %test) passes on this stack.
"""

import ast
import glob
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, SCRIPTS, python38

IMAGE_PACKAGES = {"numpy", "h5py", "PIL", "tensorflow", "matplotlib", "yaml"}
CONTAINER_CODE = sorted(
    glob.glob(str(SCRIPTS / "*.py"))
    + glob.glob(str(SCRIPTS / "bdeval" / "**" / "*.py"), recursive=True)
    + [str(REPO / "containers" / "selftest.py")]
)
LOCAL = {os.path.splitext(os.path.basename(p))[0] for p in glob.glob(str(SCRIPTS / "*.py"))}
LOCAL.add("bdeval")


def test_vermin_minimum_version_is_at_most_3_7():
    vermin = shutil.which("vermin", path=os.path.dirname(sys.executable)) or shutil.which("vermin")
    if vermin is None:
        pytest.skip("vermin not installed (requirements-dev.txt)")
    proc = subprocess.run(
        [vermin, "--target=3.7-", "--violations", "--eval-annotations", "--no-tips", "--no-parse-comments"]
        + CONTAINER_CODE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
    )
    assert proc.returncode == 0, proc.stdout


def test_a_real_python_3_8_compiles_everything(tmp_path):
    exe = python38()
    if exe is None:
        pytest.skip("no Python 3.8 found (pyenv install 3.8)")
    code = (
        "import sys, py_compile\n"
        "for i, path in enumerate(sys.argv[1:]):\n"
        "    py_compile.compile(path, cfile=sys.argv[0] + str(i), doraise=True)\n"
    )
    script = tmp_path / "compile.py"
    script.write_text(code)
    proc = subprocess.run(
        [exe, str(script)] + CONTAINER_CODE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout


def _guarded(node, parents):
    """True if the import sits in a `try:` body whose handlers catch ImportError (an optional
    dependency with a fallback or a one-line error, e.g. tf_keras, gdown)."""
    catching = ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")
    for parent in parents:
        if isinstance(parent, ast.Try) and any(node in ast.walk(stmt) for stmt in parent.body):
            for handler in parent.handlers:
                if handler.type is None:
                    return True
                names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if any(isinstance(n, ast.Name) and n.id in catching for n in names):
                    return True
    return False


def imported_packages(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    parents = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module]
        else:
            continue
        chain, cur = [], node
        while cur in parents:
            cur = parents[cur]
            chain.append(cur)
        for name in names:
            found.append((name.split(".")[0], node.lineno, _guarded(node, chain)))
    return found


@pytest.mark.skipif(not hasattr(sys, "stdlib_module_names"), reason="needs Python >= 3.10")
def test_only_packages_the_image_has_are_imported():
    allowed = set(sys.stdlib_module_names) | IMAGE_PACKAGES | LOCAL
    bad = []
    for path in CONTAINER_CODE:
        for top, line, guarded in imported_packages(path):
            if top not in allowed and not guarded:
                bad.append("{}:{}: {}".format(os.path.relpath(path, str(REPO)), line, top))
    assert not bad, "imports of packages the TF 1.15 image lacks:\n" + "\n".join(bad)


def test_the_import_checker_sees_unguarded_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\ntry:\n    import tf_keras\nexcept ImportError:\n    pass\n"
        "def f():\n    import sklearn.metrics\n"
        "    try:\n        import gdown\n    except (OSError, ValueError):\n        pass\n"
    )
    assert imported_packages(str(sample)) == [
        ("os", 1, False),
        ("tf_keras", 3, True),
        ("sklearn", 7, False),
        ("gdown", 9, False),
    ]


def test_container_selftest_passes_on_this_stack():
    proc = subprocess.run(
        [sys.executable, str(REPO / "containers" / "selftest.py"), "--code", str(SCRIPTS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
    )
    assert proc.returncode == 0 and "selftest OK" in proc.stdout, proc.stdout[-3000:]
