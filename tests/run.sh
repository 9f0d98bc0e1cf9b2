#!/usr/bin/env bash
# The test command: the whole suite on the modern stack (.venv, Python 3.11, TF 2 + tf-keras),
# then the suite on the legacy stack (.venv-legacy, Python 3.7, TF 1.15) when a Python 3.7 is
# available (pyenv); tests that need Snakemake or other modern-only tools skip themselves there.
# Extra arguments go to pytest. LEGACY=0 skips the legacy stack, LEGACY=1 requires it.
set -euo pipefail
cd "$(dirname "$0")/.."

PY311=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then "$PY311" -m venv .venv; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 \
    | grep -v "^WARNING: Location" || true

echo "== modern stack: $(.venv/bin/python --version)"
.venv/bin/python -m pytest tests -q -p no:cacheprovider "$@"

PY37=$(command -v python3.7 || ls "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.7*/bin/python 2>/dev/null | head -1 || true)
if [ "${LEGACY:-auto}" = 0 ]; then exit 0; fi
if [ -z "$PY37" ]; then
    if [ "${LEGACY:-auto}" = 1 ]; then echo "LEGACY=1 but no Python 3.7 found" >&2; exit 1; fi
    echo "== legacy stack skipped: no Python 3.7 (pyenv install 3.7) found"
    exit 0
fi
if [ ! -x .venv-legacy/bin/python ]; then "$PY37" -m venv .venv-legacy; fi
.venv-legacy/bin/python -m pip install -q --disable-pip-version-check -r requirements-legacy.txt 2>&1 \
    | grep -v "^WARNING: Location" || true
echo "== legacy stack: $(.venv-legacy/bin/python --version), TF 1.15"
.venv-legacy/bin/python -m pytest tests -q -p no:cacheprovider "$@"
