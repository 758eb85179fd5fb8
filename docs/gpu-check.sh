#!/usr/bin/env bash
# The training checks that only a GPU can answer (issue 14), as one script for a lent GPU machine.
#
#   bash docs/gpu-check.sh PHOTOS OUT
#
# PHOTOS is a folder of a few dozen training photos (the speed does not depend on the data), OUT a folder
# for the logs (six small text files; checkpoints and weights go to a scratch folder, WORK). With configs/rdn.yaml at batch 16 it measures
#   1. the steps per second of the plain trainer and of `--compile reduce-overhead` (torch.compile plus
#      CUDA graphs, so each step is a few graph launches instead of ~1,500 kernel launches), both read off
#      the time box's own measurement, which starts after the warm-up and the compile;
#   2. resume across devices: 20 steps on the GPU, 1 step on the CPU from the GPU's checkpoint, the rest on
#      the GPU again from the CPU's checkpoint, ending in an export.
# It prints a summary at the end. docs/training.md says how to send it to the lent machine.
#
# A dry run on a CPU (minutes, not seconds; torch.compile needs a C++ compiler there):
#   PYTHON=.venv/bin/python CONFIG=configs/edsr-baseline.yaml DEVICE=cpu MINUTES=0.5 COMPILED_MINUTES=2 \
#       bash docs/gpu-check.sh PHOTOS /tmp/gpu-check
set -uo pipefail  # no -e: a failed check must not stop the others

photos=${1:?usage: bash docs/gpu-check.sh PHOTOS OUT}
out=${2:-gpu-check}
py=${PYTHON:-python3}
config=${CONFIG:-configs/rdn.yaml}
device=${DEVICE:-cuda}
minutes=${MINUTES:-1.5}
compiled_minutes=${COMPILED_MINUTES:-3}  # the compile itself takes 1-2 minutes of the box
work=${WORK:-$(mktemp -d)}
mkdir -p "$out" "$work"

train() {
    "$py" -m liif train --config "$config" --data "$photos" --holdout 2 --runs-dir "$work/runs" "$@"
}

"$py" -c 'import torch; print("torch", torch.__version__, "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")' \
    | tee "$out/machine.txt"

# 1. Speed. Validation and checkpoints only at the end, so the box is spent on steps.
train --name speed-off --fresh --device "$device" --minutes "$minutes" --val-every 1000000 --ckpt-every 1000000 \
    --export "$work/speed-off.safetensors" 2>&1 | tee "$out/speed-off.txt"
train --name speed-reduce-overhead --fresh --device "$device" --compile reduce-overhead --minutes "$compiled_minutes" \
    --val-every 1000000 --ckpt-every 1000000 --export "$work/speed-reduce-overhead.safetensors" \
    2>&1 | tee "$out/speed-reduce-overhead.txt"

# 2. Resume across devices: one run, three sessions on two devices.
resume=(--name resume --steps 40 --val-every 40 --ckpt-every 10 --export "$work/resume.safetensors")
train "${resume[@]}" --fresh --device "$device" --max-steps-this-session 20 2>&1 | tee "$out/resume-1-$device.txt"
train "${resume[@]}" --device cpu --max-steps-this-session 1 2>&1 | tee "$out/resume-2-cpu.txt"
train "${resume[@]}" --device "$device" 2>&1 | tee "$out/resume-3-$device.txt"

echo "== summary"
cat "$out/machine.txt"
for f in "$out"/speed-*.txt "$out"/resume-*.txt; do
    echo "-- $(basename "$f")"
    tr '\r' '\n' < "$f" | grep -E "process\(es\)|time box:|resumed|steps in|exported|step [0-9]+: val|Error|error" || true
done
