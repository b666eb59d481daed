#!/usr/bin/env bash
# Set up .venv (if needed) with the package and its test extras, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,dask]'
.venv/bin/python -m pytest -q "$@"
