#!/usr/bin/env bash
# On the GPU test machine, from the repository root (the device tool's working directory), with
# .gpu/ from tools/gpu/pack.sh carried along: unpack Node, the project and the Vulkan loader, then
# run PyTorch's own CUDA timing of the same UNet3D and the GPU check (tools/gpu/check.ts), all
# results into $OUT. docs/gpu.md. Usage: bash tools/gpu/run.sh [check budget in seconds]
set -uo pipefail
OUT=${OUT:-/tmp/unilvseg-gpu-out}
BUDGET=${1:-360}
mkdir -p "$OUT"
W=/tmp/unilvseg-gpu && mkdir -p "$W"
xz -dc .gpu/node.xz > "$W/node" && chmod +x "$W/node"
tar -C "$W" -xJf .gpu/project.tar.xz
for f in .gpu/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/nvidia-smi.txt" 2>&1
# PyTorch first, alone on the GPU: same model, same clip size, fp32 (the ratio's other side)
(cd tools/torch-baseline && timeout 150 python3 time_torch.py 3d_unet 5 cuda > "$OUT/torch-cuda.json" 2> "$OUT/torch-cuda.err")
(cd "$W" && timeout $((BUDGET + 60)) ./node dist/tools/gpu/check.js --out "$OUT" --budget "$BUDGET" --torch "$OUT/torch-cuda.json" > "$OUT/check.log" 2>&1)
echo "check exit $?"
cat "$OUT/torch-cuda.json"
tail -c 6000 "$OUT/gpu-check.json"
