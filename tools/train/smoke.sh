#!/bin/sh
# Training smoke test: prep a tiny corpus, train a tiny deepseek32 for a few steps (all three DSA
# stages), dump, export to GGUF with the project's writer (src/tools/export-trained), read it back.
# Prints "SKIP: ..." and exits 0 when PyTorch (or numpy / regex) is absent; "SMOKE OK" on success.
set -e
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c "import torch, numpy, regex" 2>/dev/null; then
  echo "SKIP: PyTorch, numpy or regex is not importable by $PY (Debian: apt-get install python3-torch python3-numpy python3-regex libopenblas0-pthread)"
  exit 0
fi
if [ -n "$SMOKE_OUT" ]; then OUT=$SMOKE_OUT; else OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT; fi
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
"$PY" tools/train/train.py --smoke --out "$OUT" --attn-sup 1.0 --train-ctx 96
npx tsx src/tools/export-trained/main.ts "$OUT/dump" "$OUT/model.gguf"
"$PY" tools/train/train.py --smoke --out "$OUT" --eval "$OUT/model.gguf" | tail -6
echo "SMOKE OK"
