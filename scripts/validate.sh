#!/usr/bin/env bash
# Runs a representative subset of the tests under the Khronos Vulkan validation layer
# (VICREG_VALIDATE=1, src/gpu/validation.ts) in both kernel families, and fails on any layer
# message: both loss forms, a net step through every op, a short training run.
# First a canary proves the layer loads and reports a deliberately invalid dispatch.
# Usage: scripts/validate.sh [cpu|gpu ...]   (default: cpu gpu)
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
tunings=("$@"); [ ${#tunings[@]} -gt 0 ] || tunings=(cpu gpu)
files=(test/vicreg/loss.test.ts test/train/net.test.ts test/train/train.test.ts)
# Loss: both forms and conventions on shapes off the tiles (a small one, one past the d x d tiles),
# the fixed vector and the one-submit check; net: every op forward and backward plus LARS;
# training: 3 epochs of the tiny model with evaluation.
pattern='\((17, 33|130, 260)\)|fixed vector|one submit|every gradient|the loss goes down'

VICREG_VALIDATE=0 npx vitest run test/gpu/validation-layer.test.ts

logs=$(mktemp -d "${TMPDIR:-/tmp}/vicreg-validate-XXXXXX")
export VICREG_VALIDATE=1 VICREG_VALIDATE_LOG_DIR="$logs"
for t in "${tunings[@]}"; do
  echo "[validate] VICREG_TUNING=$t under the validation layer: ${files[*]}"
  VICREG_TUNING=$t npx vitest run "${files[@]}" -t "$pattern"
done
# Every test process wrote its own log (the layer creates it at start-up); all must be empty.
node -e '
const fs = require("fs"), path = require("path");
const dir = process.argv[1], want = Number(process.argv[2]);
const logs = fs.readdirSync(dir).filter((f) => /^vvl-\d+\.log$/.test(f));
const bad = logs.filter((f) => fs.statSync(path.join(dir, f)).size > 0);
for (const f of bad) console.error(`--- ${f}\n` + fs.readFileSync(path.join(dir, f), "utf8").slice(0, 4000));
if (logs.length < want) { console.error(`[validate] only ${logs.length} layer logs, expected at least ${want}: did the layer load?`); process.exit(1); }
if (bad.length) { console.error(`[validate] ${bad.length} of ${logs.length} processes got validation messages (logs in ${dir})`); process.exit(1); }
console.log(`[validate] ${logs.length} processes under the validation layer, 0 messages`);
' "$logs" "$(( ${#files[@]} * ${#tunings[@]} ))"
rm -rf "$logs"
