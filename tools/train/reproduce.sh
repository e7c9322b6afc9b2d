#!/bin/sh
# The shipped model end to end: corpus + tokenizer, the three training stages, export through the
# project's GGUF writer, then the card's figures measured on the exported file. The shipped run
# trained on one NVIDIA H200 (CUDA, PyTorch 2.11) beside two other runs, its stages sized by wall
# time (3.2 + 0.4 + 1.2 min); this script replays the step counts it reached. On one CPU core the
# same steps take about a day; on a GPU, minutes.
set -e
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
OUT=${OUT:-tools/train/out/run}
MODEL=${MODEL:-public/models/sparsescope-kjv-5m-q8_0.gguf}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
"$PY" tools/train/train.py --out "$OUT" --batch 32 --lr 3e-3 --dropout 0.1 \
  --p-recall 0.35 --p-copy 0.3 --max-facts 6 \
  --dense-steps 1497 --warmup-steps 371 --sparse-steps 556 \
  --log-every 100 --eval-every 400 --ckpt-every 200 --final-eval
npx tsx src/tools/export-trained/main.ts "$OUT/dump" "$MODEL"
"$PY" tools/train/train.py --out "$OUT" --eval "$MODEL" --card public/models/MODEL.md \
  --card-notes tools/train/card-notes.md --hardware "${HARDWARE:-one NVIDIA H200 (PyTorch 2.11, CUDA), shared with two other training runs}"
