// VICREG_BACKEND really selects the backend (CI runs the loss and net tests on OpenGL ES too).
import { describe, expect, it } from 'vitest';
import { testGpu } from '../helpers/gpu.js';

describe('backend', () => {
  it('the adapter comes from the backend VICREG_BACKEND names', async () => {
    const gpu = await testGpu();
    const want = process.env.VICREG_BACKEND;
    if (want) expect(gpu.adapterName).toContain(`[${want}`);
    else expect(gpu.adapterName).toMatch(/\[(vulkan|opengles)/);
  });
});
