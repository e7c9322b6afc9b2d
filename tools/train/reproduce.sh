#!/bin/sh
# The shipped model end to end: corpus + tokenizer, the base run's three training stages, its export, the
# two fine-tunes that teach the recall passages (the same stages, with attention supervision), export
# through the project's GGUF writer, then the card's figures measured on the exported file.
# The base run trained on one NVIDIA H200 (CUDA, PyTorch 2.11) beside two other runs, its stages sized by
# wall time (3.2 + 0.4 + 1.2 min); on one CPU core the same steps take about a day. The two fine-tunes
# trained on one core of a 2-core CPU (torch 1.13): ~14 and ~25 minutes. This script replays the step counts
# the runs reached. The card's record of the runs before the last comes from tools/train/runs/.
set -e
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
OUT=${OUT:-tools/train/out/run}
MODEL=${MODEL:-public/models/sparsescope-kjv-5m-q8_0.gguf}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
"$PY" tools/train/train.py --out "$OUT/base" --batch 32 --lr 3e-3 --dropout 0.1 \
  --p-recall 0.35 --p-copy 0.3 --max-facts 6 \
  --dense-steps 1497 --warmup-steps 371 --sparse-steps 556 \
  --log-every 100 --eval-every 400 --ckpt-every 200
npx tsx src/tools/export-trained/main.ts "$OUT/base/dump" "$OUT/base-q8_0.gguf"
# fine-tune 1: recall passages within 256 tokens (the shipped run: a 30-minute dense stage stopped at step 600)
"$PY" tools/train/train.py --out "$OUT/ft256" --init-from "$OUT/base-q8_0.gguf" \
  --train-ctx 256 --batch 8 --lr 1e-3 --dropout 0 --p-recall 0.6 --max-facts 1 --ans-weight 20 --attn-sup 1.0 \
  --dense-steps 1330 --stop-at-step 600 --log-every 10 --eval-every 200 --ckpt-every 50
npx tsx src/tools/export-trained/main.ts "$OUT/ft256/dump" "$OUT/ft256-q8_0.gguf"
# fine-tune 2: the same at the model's 512-token context, then the indexer's two stages
"$PY" tools/train/train.py --out "$OUT/ft512" --init-from "$OUT/ft256-q8_0.gguf" \
  --batch 4 --lr 6e-4 --dropout 0 --p-recall 0.6 --max-facts 1 --ans-weight 20 --attn-sup 1.0 \
  --dense-steps 800 --warmup-steps 60 --sparse-steps 100 --log-every 10 --eval-every 200 --ckpt-every 50
npx tsx src/tools/export-trained/main.ts "$OUT/ft512/dump" "$MODEL"
"$PY" tools/train/train.py --out "$OUT/ft512" --eval "$MODEL" --card public/models/MODEL.md \
  --card-notes tools/train/card-notes.md --prior-run tools/train/runs/base.json --prior-run tools/train/runs/recall-256.json \
  --run-title "Fine-tune 2, the same at the full 512-token context, from fine-tune 1's Q8_0 file" \
  --hardware "${HARDWARE:-one core of a 2-core CPU (torch 1.13, 1 thread), beside a second training process}"
