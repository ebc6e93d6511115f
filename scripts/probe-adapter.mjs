#!/usr/bin/env node
// Prints the Vulkan adapter Dawn finds (a real GPU or lavapipe) and exits 0, or exits 1
// if there is none. Used by setup.sh to decide whether to install Mesa's lavapipe.
import { create } from 'webgpu';

process.env.XDG_RUNTIME_DIR ??= '/tmp';
const timer = setTimeout(() => {
  console.error('probe: timed out waiting for an adapter');
  process.exit(1);
}, 30_000);
globalThis.__probeGpu = create([]); // must stay reachable (NOTES-dawn.md)
const adapter = await globalThis.__probeGpu.requestAdapter({ powerPreference: 'high-performance' });
clearTimeout(timer);
if (!adapter) {
  console.error('probe: no Vulkan adapter');
  process.exit(1);
}
const i = adapter.info;
console.log(`${i.description || i.device} (${i.vendor}${i.isFallbackAdapter ? ', software' : ''})`);
process.exit(0);
