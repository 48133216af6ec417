#!/usr/bin/env bash
# The device suites (test/gpu/{ops,training,optimizers,fusion,node-paths}, test/nn/device, test/optim2/{device,device-wrappers,async-step}) on the two Node GPU paths, on Mesa's
# llvmpipe software rasteriser when no GPU exists (docs/gpu.md, notes §2-§3):
#   webgpu      WebGPU through Dawn (the `webgpu` devDependency), Dawn's OpenGL ES backend on EGL
#   headlessgl  WebGL 1 through headless-gl (the `gl` package, gpu.js's optional dependency) under Xvfb
# Installs the Debian packages they need when missing (apt-get, as root), builds `gl` when it is not
# built (npm ci drops it when the X/GL headers were missing; about 2.5 minutes on 2 cores), then runs
# the suites once per path with TG_GPU_DEVICES set, which fails the run when a path cannot start.
#   bash scripts/gpu-node/run.sh [webgpu] [headlessgl]      # default: both
set -euo pipefail
cd "$(dirname "$0")/../.."
paths=("$@")
[ ${#paths[@]} -eq 0 ] && paths=(webgpu headlessgl)
suites=(test/gpu/ops.test.ts test/gpu/training.test.ts test/gpu/optimizers.test.ts test/gpu/fusion.test.ts test/gpu/node-paths.test.ts test/nn/device.test.ts test/optim2/device.test.ts test/optim2/device-wrappers.test.ts test/optim2/async-step.test.ts)
started=$SECONDS

# Dawn dlopens the unversioned libEGL.so (libegl-dev) and renders with Mesa's llvmpipe (EGL + DRI);
# gl builds with node-gyp against the X/GL headers and needs an X server (Xvfb) to run.
declare -A need=(
  [webgpu]="libegl-dev libegl-mesa0 libgl1-mesa-dri"
  [headlessgl]="xvfb xauth libxi-dev libglew-dev libglu1-mesa-dev libgl1-mesa-dri pkg-config python3 make g++"
)
missing=()
for p in "${paths[@]}"; do
  [ -n "${need[$p]:-}" ] || { echo "gpu-node: unknown path '$p' (webgpu, headlessgl)" >&2; exit 2; }
  for pkg in ${need[$p]}; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "gpu-node: missing Debian packages (install as root): ${missing[*]}" >&2; exit 1; }
  echo "gpu-node: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ " ${paths[*]} " == *" headlessgl "* ]] && ! node -e "require('gl')" 2>/dev/null; then
  echo "gpu-node: building gl@8.1.6 (headless-gl)"
  npm install --no-save --no-audit --no-fund gl@8.1.6 >/dev/null
  node -e "require('gl')"
fi
echo "gpu-node: setup took $((SECONDS - started)) s"

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"   # silences Dawn's warning only
for p in "${paths[@]}"; do
  t0=$SECONDS
  if [ "$p" = webgpu ]; then
    TG_GPU_DEVICES=gpu:webgpu npx vitest run "${suites[@]}"
  else
    # llvmpipe textures go back to the OS only with this malloc threshold (notes §5.7).
    MALLOC_MMAP_THRESHOLD_=131072 xvfb-run -a env TG_GPU_DEVICES=gpu:headlessgl npx vitest run "${suites[@]}"
  fi
  echo "gpu-node: $p suites took $((SECONDS - t0)) s"
done
echo "gpu-node: total $((SECONDS - started)) s"
