#!/usr/bin/env bash
# Packs what the offline GPU test machine needs into .gpu/ (git-ignored), inside the device tool's
# 64 MiB together with the repository: the Node binary; package.json, dist/ and the production
# node_modules with only the linux-x64 ONNX Runtime (no onnxruntime-web, no ffprobe binary: video
# probing falls back to ffmpeg); the Vulkan loader .deb. tools/gpu/run.sh unpacks and runs it
# there. docs/gpu.md has the whole recipe.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build >/dev/null
rm -rf .gpu && mkdir -p .gpu
xz -T2 -9 -c "$(command -v node)" > .gpu/node.xz
# production packages only (npm's own list), minus what the GPU run never loads
npm ls --omit=dev --all --parseable 2>/dev/null | sed "s#^$PWD/##" | grep '^node_modules/' \
  | grep -v -e '^node_modules/onnxruntime-web' -e '^node_modules/@types/' > .gpu/packages.txt
tar -c \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  --exclude='node_modules/@ffprobe-installer/linux-x64/ffprobe' \
  --exclude='dist/test' \
  package.json dist $(cat .gpu/packages.txt) | xz -T1 -9 > .gpu/project.tar.xz
rm .gpu/packages.txt
(cd .gpu && apt-get download libvulkan1 >/dev/null)
du -b .gpu/* | awk '{ printf "%-28s %6.1f MiB\n", $2, $1 / 1048576; t += $1 } END { printf "%-28s %6.1f MiB\n", "total", t / 1048576 }'
