/**
 * The machine a figure came from: CPU model, its vector flags and cores, and llvmpipe's
 * vector width when set. Every benchmark prints this beside the adapter: a number from one
 * machine does not carry to another (AVX2-only and AVX-512 CPUs differ by ~2x on lavapipe).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Gpu } from '../src/gpu/device.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  /** The vector extensions that matter to llvmpipe's code generation. */
  vector_flags: string[];
  /** LP_NATIVE_VECTOR_WIDTH when set (llvmpipe's vector width: 128 / 256 (its default) / 512). */
  lp_native_vector_width: string | null;
  /** GALLIUM_OVERRIDE_CPU_CAPS when set (`avx`: llvmpipe generates AVX2-only code on an AVX-512 CPU). */
  gallium_cpu_caps: string | null;
  adapter: string;
  tuning: string;
  /** The adapter's subgroup size when it has exactly one (8 on lavapipe at 256-bit vectors). */
  subgroup_size: number;
}

export function machineInfo(gpu: Gpu): MachineInfo {
  let flags: string[] = [];
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? model;
    const all = new Set((/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '').split(/\s+/));
    flags = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_bf16', 'amx_tile'].filter((f) => all.has(f));
  } catch {
    // not Linux: the model from os.cpus() only
  }
  return {
    cpu: model,
    cores: cpus().length,
    vector_flags: flags,
    lp_native_vector_width: process.env.LP_NATIVE_VECTOR_WIDTH ?? null,
    gallium_cpu_caps: process.env.GALLIUM_OVERRIDE_CPU_CAPS ?? null,
    adapter: gpu.adapterName,
    tuning: gpu.tuning,
    subgroup_size: gpu.subgroupSize,
  };
}

export function describeMachine(m: MachineInfo): string {
  const lp =
    (m.lp_native_vector_width ? `, LP_NATIVE_VECTOR_WIDTH=${m.lp_native_vector_width}` : '') +
    (m.gallium_cpu_caps ? `, GALLIUM_OVERRIDE_CPU_CAPS=${m.gallium_cpu_caps}` : '');
  return `${m.cpu} (${m.cores} cores; ${m.vector_flags.join(' ') || 'no AVX'}${lp}); adapter ${m.adapter}, ${m.tuning} kernels, subgroup ${m.subgroup_size || 'varies'}`;
}
