#!/bin/bash
# The GPU benchmarks on a machine with a GPU and nothing else (packed by scripts/device-pack.mjs into .device/,
# copied there as run.sh): unpacks Node and Dawn under /tmp, finds the Vulkan driver, then runs
#   1. the twin bench: decode on real models' shapes against the copy bandwidth (~3 min on an H200),
#   2. the bench at large sizes without llama.cpp, for what is left of TWIN_BENCH_BUDGET_S (default 540 s).
# Everything it prints, the tables and the JSON go to $OUT (default .device/out).
#   bash .device/run.sh [twin-bench arguments, e.g. --twin youtu-llm-2b:Q4_K_M --decode 64]
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out}
mkdir -p "$out"
work=/tmp/sparsescope-device
mkdir -p "$work"
started=$(date +%s)
budget=${TWIN_BENCH_BUDGET_S:-540}

if [ ! -x "$work/node" ]; then xz -dc "$here/node.xz" > "$work/node" && chmod +x "$work/node"; fi
dawn="$here/app/node_modules/webgpu/dist/linux-x64"
[ -f "$dawn/dawn.node" ] || xz -dc "$dawn/dawn.node.xz" > "$dawn/dawn.node"
# the packed Vulkan loader unless the machine has one
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
  done
fi

{
  echo "date: $(date -u +%FT%TZ)"
  echo "node: $("$work/node" --version)"
  echo "VK_DRIVER_FILES: ${VK_DRIVER_FILES:-(unset)}"
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
} | tee "$out/machine.txt"

cd "$here/app"
"$work/node" twin-bench.js --out "$out/twin-bench.json" --cache "$work/models" "$@" > "$out/twin-bench.txt" 2> "$out/twin-bench.log"
echo "twin bench: exit $?"
cat "$out/twin-bench.txt"
tail -5 "$out/twin-bench.log"

left=$((budget - ($(date +%s) - started)))
if [ "$left" -gt 60 ]; then
  timeout "$left" "$work/node" bench.js --no-llama --no-cache --out "$out/bench.json" > "$out/bench.txt" 2> "$out/bench.log"
  echo "bench: exit $? (limit ${left} s)"
  cat "$out/bench.txt"
  tail -5 "$out/bench.log"
else
  echo "bench: skipped, ${left} s of the budget left"
fi
