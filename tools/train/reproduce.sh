#!/bin/sh
# The shipped model end to end: corpus + tokenizer, the three training stages, export through the
# project's GGUF writer, then the card's figures measured on the exported file.
# ~55 min on one CPU core; OUT and MODEL may be overridden.
set -e
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
OUT=${OUT:-tools/train/out/run}
MODEL=${MODEL:-public/models/sparsescope-kjv-5m-q8_0.gguf}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
"$PY" tools/train/train.py --out "$OUT" --batch 4 --lr 2e-3 \
  --dense-steps DENSE_STEPS --warmup-steps 80 --sparse-steps 250 --eval-every 150
npx tsx src/tools/export-trained/main.ts "$OUT/dump" "$MODEL"
"$PY" tools/train/train.py --out "$OUT" --eval "$MODEL" --card public/models/MODEL.md \
  --card-notes tools/train/card-notes.md
