/** The CLI error contract, in-process (the subprocess tests cannot provoke an internal error). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, reportError } from '../../src/cli/main.js';
import { InputError } from '../../src/errors.js';
import { GpuUnavailableError, KernelCompileError } from '../../src/gpu/errors.js';

function captureStderr(fn: () => number): { code: number; text: string } {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  try {
    return { code: fn(), text: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => {
  delete process.env.VICREG_DEBUG;
});

describe('reportError', () => {
  it('input errors: one line, exit 2', () => {
    const r = captureStderr(() => reportError(new InputError('bad-rank', 'x.npy: expected a 2-D (n, d) array')));
    expect(r.code).toBe(2);
    expect(r.text).toBe('vicreg: error: x.npy: expected a 2-D (n, d) array\n');
  });

  it('internal errors: one line without a stack, exit 1', () => {
    const r = captureStderr(() => reportError(new Error('boom\n  second line')));
    expect(r.code).toBe(1);
    expect(r.text).toBe('vicreg: internal error: boom second line (set VICREG_DEBUG=1 for details, and please report it with that output)\n');
    const k = captureStderr(() => reportError(new KernelCompileError("kernel 'x' failed")));
    expect(k.text).toBe("vicreg: internal error: KernelCompileError: kernel 'x' failed (set VICREG_DEBUG=1 for details, and please report it with that output)\n");
    const s = captureStderr(() => reportError('a string'));
    expect(s.text).toBe('vicreg: internal error: a string (set VICREG_DEBUG=1 for details, and please report it with that output)\n');
  });

  it('internal errors: the stack with VICREG_DEBUG=1', () => {
    process.env.VICREG_DEBUG = '1';
    const r = captureStderr(() => reportError(new Error('boom')));
    expect(r.code).toBe(1);
    expect(r.text.split('\n')[0]).toBe('vicreg: internal error: boom');
    expect(r.text).toMatch(/\n\s+at /);
  });

  it('no GPU: one error line, exit 1', () => {
    const r = captureStderr(() => reportError(new GpuUnavailableError('no WebGPU adapter found (vulkan: no adapter)')));
    expect(r.code).toBe(1);
    expect(r.text).toBe('vicreg: error: no WebGPU adapter found (vulkan: no adapter)\n');
  });
});

describe('COMMANDS', () => {
  it('registers loss with a summary and usage', () => {
    const loss = COMMANDS.find((c) => c.name === 'loss');
    expect(loss).toBeDefined();
    expect(loss!.usage).toMatch(/^usage: vicreg loss/);
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });
});
