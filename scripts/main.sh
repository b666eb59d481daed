#!/usr/bin/env bash
# Set up .venv (if needed) and run the main job: the objective comparison on the synthetic web that ships
# with the code (raw documents -> BM25 first stage -> features -> GBDT objectives -> report).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
.venv/bin/ltr run experiments/synthetic_web.toml --out results/synthetic-web "$@"
