#!/usr/bin/env bash
# The test command: the whole suite on the modern stack (.venv, Python 3.11, TF 2 + tf-keras),
# then the suite on the legacy stack (.venv-legacy, Python 3.7, TF 1.15) when a Python 3.7 is
# available (pyenv); tests that need Snakemake or other modern-only tools skip themselves there.
# Extra arguments go to pytest. LEGACY=0 skips the legacy stack, LEGACY=1 requires it;
# MODERN=0 skips the modern one.
set -euo pipefail
cd "$(dirname "$0")/.."

PY311=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then "$PY311" -m venv .venv; fi
install() {  # install() VENV REQUIREMENTS: quiet, but show pip's output when it fails
    if ! "$1/bin/python" -m pip install -q --disable-pip-version-check -r "$2" > "$1/pip.log" 2>&1; then
        grep -v "^WARNING: Location" "$1/pip.log" >&2
        echo "tests/run.sh: pip install -r $2 failed" >&2
        exit 1
    fi
}
install .venv requirements-dev.txt

if [ "${MODERN:-1}" != 0 ]; then
    echo "== modern stack: $(.venv/bin/python --version)"
    .venv/bin/python -m pytest tests -q -p no:cacheprovider "$@"
fi

if [ "${LEGACY:-auto}" = 0 ]; then exit 0; fi
PY37=""
for candidate in "${PYTHON37:-}" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.7*/bin/python python3.7; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 7)' 2>/dev/null; then
        PY37=$candidate
        break
    fi
done
if [ -z "$PY37" ]; then
    if [ "${LEGACY:-auto}" = 1 ]; then echo "LEGACY=1 but no Python 3.7 found" >&2; exit 1; fi
    echo "== legacy stack skipped: no Python 3.7 (pyenv install 3.7) found"
    exit 0
fi
if [ ! -x .venv-legacy/bin/python ]; then "$PY37" -m venv .venv-legacy; fi
install .venv-legacy requirements-legacy.txt
echo "== legacy stack: $(.venv-legacy/bin/python --version), TF 1.15"
.venv-legacy/bin/python -m pytest tests -q -p no:cacheprovider "$@"
