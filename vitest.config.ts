import { defineConfig } from 'vitest/config';
import { readFileSync } from 'node:fs';

export default defineConfig({
  plugins: [
    {
      name: 'wgsl-text',
      load(id) {
        if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
        return null;
      },
    },
  ],
  test: {
    // forks: a native crash kills one worker, not the whole run (NOTES-dawn.md).
    pool: 'forks',
    // Two cores and a software rasteriser: GPU suites run one file at a time per core.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { XDG_RUNTIME_DIR: '/tmp' },
    include: ['test/**/*.test.ts'],
  },
});
