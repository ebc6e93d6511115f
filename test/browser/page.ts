/**
 * The browser test's page script: bundled by esbuild from the package by name ('vicreg-webgpu'
 * resolved through package.json "exports" with the browser condition, i.e. dist/browser.mjs),
 * run in headless Chromium on SwiftShader. `window.runChecks()` returns every result as plain
 * data; browser.test.ts compares them with the float64 references.
 */
import * as api from 'vicreg-webgpu';
import { convCase, lossCases, matmulCase, smokeSteps, type SmokeConfig } from './cases.js';

declare global {
  interface Window {
    runChecks(o: { tuning: 'cpu' | 'gpu'; smoke: SmokeConfig; steps: number }): Promise<unknown>;
  }
}

window.runChecks = async ({ tuning, smoke, steps }) => {
  const t0 = performance.now();
  // createGpu() with no device: navigator.gpu, asking for the engine's limits.
  const own = await api.createGpu({ tuning });
  const ownInfo = { name: own.adapterName, maxStorageBuffersPerShaderStage: own.limits.maxStorageBuffersPerShaderStage };
  own.device.destroy();

  // A device exactly as a page gets it by default: no requiredLimits.
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  const gpu = await api.createGpu({ device, tuning, adapterName: adapter.info.description || adapter.info.vendor });
  const L = device.limits;
  const limits = {
    maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
    maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
  };
  const loss = await lossCases(api, gpu);
  const matmul = await matmulCase(api, gpu);
  const conv = await convCase(api, gpu);
  const train = await smokeSteps(api, gpu, smoke, steps);
  await gpu.checkErrors();
  return { own: ownInfo, adapter: { vendor: adapter.info.vendor, architecture: adapter.info.architecture, description: adapter.info.description }, tuning: gpu.tuning, limits, loss, matmul, conv, train, ms: performance.now() - t0 };
};
document.body.dataset.ready = '1';
