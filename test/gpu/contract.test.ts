/**
 * The host–kernel contract comes from the WGSL: uniforms packed by field name from the reflected
 * struct (a missing, extra or mistyped field is an error naming kernel and field), dispatch
 * sizes from the reflected @workgroup_size, and the cache keyed by what is compiled.
 */
import { describe, expect, it } from 'vitest';
import { testGpu } from '../helpers/gpu.js';
import { Tensor } from '../../src/tensor.js';
import { UniformError, kernelKey, packUniform, wgslSections, workgroupsFor, type KernelSpec } from '../../src/gpu/kernel.js';

const SRC = `struct Params { n: u32, scale: f32, shift: i32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
const WG: u32 = 64;
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { y[i] = f32(i) * p.scale + f32(p.shift); }
}`;
const spec = (consts?: Record<string, number>): KernelSpec => ({ name: 'test/affine', parts: [{ file: 'affine.wgsl', code: SRC }], consts });

describe('host-kernel contract', () => {
  it('packs uniforms by name at the reflected offsets and checks every field', async () => {
    const gpu = await testGpu();
    const k = gpu.kernel(spec());
    const bytes = packUniform(k, 'p', { n: 7, scale: 0.5, shift: -3 });
    const dv = new DataView(bytes.buffer);
    expect([dv.getUint32(0, true), dv.getFloat32(4, true), dv.getInt32(8, true)]).toEqual([7, 0.5, -3]);
    expect(bytes.byteLength).toBe(16);
    const bad: [Record<string, number>, RegExp][] = [
      [{ n: 7, scale: 1 }, /kernel 'test\/affine': uniform Params\.shift \(i32\) not supplied/],
      [{ n: 7, scale: 1, shift: 0, eps: 1 }, /Params has no field 'eps' \(fields: n, scale, shift\)/],
      [{ n: -1, scale: 1, shift: 0 }, /Params\.n is -1, not a u32/],
      [{ n: 1.5, scale: 1, shift: 0 }, /Params\.n is 1\.5, not a u32/],
      [{ n: 1, scale: NaN, shift: 0 }, /Params\.scale is NaN, want a f32/],
      [{ n: 1, scale: 1, shift: 2 ** 31 }, /Params\.shift is 2147483648, not a i32/],
    ];
    for (const [v, re] of bad) expect(() => packUniform(k, 'p', v), JSON.stringify(v)).toThrow(re);
    expect(() => packUniform(k, 'p', { n: 1, scale: 1, shift: 0 })).not.toThrow();
    expect(new UniformError('x')).toBeInstanceOf(Error);
  });

  it('dispatchOver sizes the grid from @workgroup_size, folding big 1-D counts into y', async () => {
    const gpu = await testGpu();
    const k = gpu.kernel(spec({ WG: 32 }));
    expect(k.workgroupSize).toEqual([32, 1, 1]);
    expect(workgroupsFor(k, [100])).toEqual([4, 1, 1]);
    expect(workgroupsFor(k, [32 * 70000])).toEqual([35000, 2, 1]);
    expect(workgroupsFor(k, [5, 3, 2])).toEqual([1, 3, 2]);
    const n = 1000;
    const y = Tensor.zeros(gpu, [n]);
    gpu.dispatchOver(k, { p: { n, scale: 2, shift: 1 }, y: y.buffer }, n);
    const out = await y.read();
    expect(Array.from(out.slice(0, 3))).toEqual([1, 3, 5]);
    expect(out[n - 1]).toBe(2 * (n - 1) + 1);
    y.release();
  });

  it('caches by compiled content: same parts and constants share a pipeline, any change does not', async () => {
    const gpu = await testGpu();
    expect(kernelKey(spec({ WG: 32 }))).toBe(kernelKey({ ...spec({ WG: 32 }), name: 'another/name' }));
    expect(kernelKey(spec({ WG: 32 }))).not.toBe(kernelKey(spec({ WG: 64 })));
    expect(kernelKey(spec())).not.toBe(kernelKey({ ...spec(), parts: [{ file: 'affine.wgsl', code: SRC + '\n' }] }));
    expect(gpu.kernel(spec({ WG: 32 }))).toBe(gpu.kernel(spec({ WG: 32 })));
  });

  it('counts the storage buffers an entry point binds from its WGSL, without compiling it', async () => {
    const gpu = await testGpu();
    const code = `struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64) fn both(@builtin(global_invocation_id) g: vec3<u32>) { out[g.x] = a[g.x] + a4[g.x].x * f32(p.n); }
@compute @workgroup_size(64) fn one(@builtin(global_invocation_id) g: vec3<u32>) { out[g.x] = a[g.x]; }`;
    const s = (entryPoint: string): KernelSpec => ({ name: 'test/count', parts: [{ file: 'count.wgsl', code }], entryPoint });
    const before = gpu.kernels.size;
    expect(gpu.kernels.storageBuffers(s('both'))).toBe(3); // the uniform is not a storage buffer
    expect(gpu.kernels.storageBuffers(s('one'))).toBe(2); // only what the entry point uses
    expect(gpu.kernels.size).toBe(before); // reflected, not compiled
  });

  it('splits a file into sections that keep its line numbers', () => {
    const code = 'a\nb\n// @section vec4: views\nc\n// @section more\nd';
    const s = wgslSections('f.wgsl', code, ['vec4', 'more']);
    expect(s.main).toEqual({ file: 'f.wgsl', code: 'a\nb' });
    expect(s.vec4.code.split('\n')).toEqual(['', '', '// @section vec4: views', 'c']);
    expect(s.more.code.split('\n')[5]).toBe('d');
    expect(() => wgslSections('f.wgsl', code, ['other'])).toThrow(/f\.wgsl: no '\/\/ @section other'/);
  });
});
