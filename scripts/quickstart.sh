#!/usr/bin/env bash
# Set everything up, then run the main job on the embedded default model (Qwen2.5-Coder-1.5B, llama.cpp):
# 7 Balanced MELD-label dialogues (one per emotion). A rerun resumes instead of starting over.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/emosynth generate dialogues --taxonomy meld --mode balanced --labels planned -n 7 \
  -o out/quickstart/meld_balanced.jsonl
