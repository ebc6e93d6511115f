#!/usr/bin/env bash
# Sets up everything this project needs on Debian 12 (bookworm) with Node 20, as root:
#   - Debian packages: dataset-fashion-mnist (the data), chromium (the report's browser test), openmpi (data-parallel training)
#   - npm dependencies (npm ci)
#   - Mesa's software Vulkan driver (lavapipe) from bookworm-backports when Dawn finds no
#     Vulkan adapter (no GPU, or Debian 12's stock Mesa 22.3, which Dawn rejects)
# Then, with --train, runs the main job: VICReg pre-training (quick preset) into runs/quick.
# Safe to run again: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

run_main=""
for arg in "$@"; do
  case "$arg" in
    --train) run_main=train ;;
    --bench) run_main=bench ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (use --train or --bench)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export DEBIAN_FRONTEND=noninteractive

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup.sh: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; return; fi
  echo "setup.sh: this step needs root. Run as root (or with sudo), or run these yourself and re-run setup.sh:" >&2
  echo "  $*" >&2
  exit 1
}

apt_updated=""
apt_install() { # apt_install [-t suite] pkg...
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root apt-get install -y -qq --no-install-recommends "$@"
}
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

need=()
have_pkg dataset-fashion-mnist || need+=(dataset-fashion-mnist)
have_pkg chromium || need+=(chromium)
# PyTorch 1.13 (~650 MB installed): test/export loads the exported encoder in it (/usr/bin/python3).
have_pkg python3-torch || need+=(python3-torch)
# Open MPI (mpirun, libmpi.so.40 through koffi): data-parallel training (docs/distributed.md), test/dist.
have_pkg openmpi-bin || need+=(openmpi-bin)
have_pkg libopenmpi-dev || need+=(libopenmpi-dev)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  apt_install "${need[@]}"
fi

if [ ! -f node_modules/webgpu/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

if adapter=$(node scripts/probe-adapter.mjs 2>/dev/null); then
  say "WebGPU adapter: $adapter"
else
  say "no Vulkan adapter: installing Mesa's lavapipe from bookworm-backports"
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    as_root sh -c "echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list"
    apt_updated=""
  fi
  apt_install -t bookworm-backports mesa-vulkan-drivers
  # Dawn prints two start-up warnings on every first adapter enumeration (scripts/dawn-log-filter.mjs):
  # keep them off the terminal, show the rest only if the probe fails.
  probe_err=$(mktemp)
  if ! adapter=$(node scripts/probe-adapter.mjs 2>"$probe_err"); then
    grep -v '^Warning: maxDynamic.*BuffersPerPipelineLayout artificially reduced' "$probe_err" >&2 || true
    rm -f "$probe_err"
    echo "setup.sh: still no WebGPU adapter after installing mesa-vulkan-drivers; the engine can also run on" >&2
    echo "  Dawn's OpenGL ES backend: VICREG_BACKEND=opengles npm test" >&2
    exit 1
  fi
  rm -f "$probe_err"
  say "WebGPU adapter: $adapter"
fi

# Dawn's OpenGL ES fallback (VICREG_BACKEND=opengles, tested in CI) needs Mesa's EGL and GL
# drivers; from the same suite as the Vulkan driver, since Mesa's packages pin each other's versions.
if ! have_pkg libegl-mesa0 || ! have_pkg libgl1-mesa-dri; then
  suite=()
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q bpo && suite=(-t bookworm-backports)
  say "installing Mesa's EGL/GL drivers (for the OpenGL ES backend)"
  apt_install "${suite[@]}" libegl1 libegl-mesa0 libgl1-mesa-dri
fi

case "$run_main" in
  train) say "running the main job: npm run train -- --out runs/quick"; exec npm run train -- --out runs/quick ;;
  bench) say "running the loss benchmark"; exec npm run bench -- loss ;;
  *) say "done" ;;
esac
