/**
 * Kernel registry. A kernel is declared once (name + WGSL parts + constants),
 * specialised by rewriting its named `const` declarations, reflected with
 * wgsl_reflect for bindings, uniform struct layouts and workgroup size, compiled
 * once per specialisation and cached by what is compiled: the entry point, the
 * identities of its parts' sources and the constants.
 *
 * The host–kernel contract is the WGSL alone: uniforms are packed by field name
 * from the reflected struct (`packUniform`), dispatch sizes come from the
 * reflected `@workgroup_size` (`workgroupsFor`).
 */
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { KernelCompileError } from './errors.js';

/** One piece of WGSL source; `file` is only used in error messages. */
export interface WgslPart {
  file: string;
  code: string;
}

/**
 * Splits one WGSL file into parts at lines `// @section NAME`: `main` is the text before the
 * first marker. For variants of a kernel family that differ in declarations a constant cannot
 * remove (e.g. vec4 views of its buffers: WGSL counts a binding that a constant-false branch
 * reads as used, and the views may exceed maxStorageBuffersPerShaderStage), so that the op
 * picks the sections it compiles. Each section keeps its file's line numbers (it is padded
 * with empty lines) for compile errors.
 */
export function wgslSections<S extends string>(file: string, code: string, names: readonly S[]): Record<'main' | S, WgslPart> {
  const lines = code.split('\n');
  const out: Record<string, WgslPart> = {};
  let name = 'main';
  let start = 0;
  const close = (end: number) => {
    if (name in out) throw new KernelCompileError(`${file}: section '${name}' appears twice`);
    out[name] = { file, code: '\n'.repeat(start) + lines.slice(start, end).join('\n') };
  };
  lines.forEach((l, i) => {
    const m = /^\/\/ @section (\w+)/.exec(l);
    if (!m) return;
    close(i);
    name = m[1]!;
    start = i;
  });
  close(lines.length);
  for (const n of names) if (!(n in out)) throw new KernelCompileError(`${file}: no '// @section ${n}'`);
  return out as Record<'main' | S, WgslPart>;
}

export interface KernelSpec {
  /** Stable name, e.g. 'vicreg/stats'. */
  name: string;
  /** Parts concatenated in order: e.g. an op's prelude, then the shared matmul core. */
  parts: WgslPart[];
  /** Values for `const NAME ... = ...;` declarations in the source (tile sizes, flags). */
  consts?: Record<string, number | boolean>;
  entryPoint?: string;
}

export interface BindingInfo {
  group: number;
  binding: number;
  kind: 'uniform' | 'storage' | 'read-only-storage';
}

/** A scalar field of a uniform struct, as reflected. */
export interface UniformField {
  name: string;
  type: 'u32' | 'i32' | 'f32';
  offset: number;
}

export interface UniformLayout {
  struct: string;
  /** Bytes, rounded up to 16 (a uniform buffer binding's granularity). */
  size: number;
  fields: UniformField[];
}

/** Values for a uniform struct, by WGSL field name (padding fields `_...` may be left out). */
export type UniformValues = Record<string, number | boolean>;

/** A uniform that does not match its kernel's struct: names the kernel and the field. */
export class UniformError extends Error {
  override name = 'UniformError';
}

export interface Kernel {
  name: string;
  key: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  bindings: Map<string, BindingInfo>;
  /** Uniform bindings whose struct has only 4-byte scalars, by binding name. */
  uniforms: Map<string, UniformLayout>;
  workgroupSize: [number, number, number];
  /** Resolves when compilation info is known; rejects with KernelCompileError. */
  compiled: Promise<void>;
}

// Sources interned to small ids: a key names exactly the code that is compiled, without
// hashing it on every dispatch (V8 keeps a string's hash, and parts are shared constants).
const sourceIds = new Map<string, number>();
function sourceId(code: string): number {
  let id = sourceIds.get(code);
  if (id === undefined) sourceIds.set(code, (id = sourceIds.size + 1));
  return id;
}

/** What is compiled: entry point, part sources (by identity of content) and constants. */
export function kernelKey(spec: KernelSpec): string {
  const consts = spec.consts ? Object.entries(spec.consts).sort(([a], [b]) => (a < b ? -1 : 1)) : [];
  return `${spec.entryPoint ?? ''}|${spec.parts.map((p) => sourceId(p.code)).join('+')}|${consts.map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/** Packs `values` into the bytes of `kernel`'s uniform `binding`, checking every field by name. */
export function packUniform(kernel: Kernel, binding: string, values: UniformValues): Uint8Array {
  const layout = kernel.uniforms.get(binding);
  if (!layout) throw new UniformError(`kernel '${kernel.name}': '${binding}' is not a uniform of 4-byte scalars`);
  const bytes = new Uint8Array(layout.size);
  const view = new DataView(bytes.buffer);
  const seen = new Set<string>();
  for (const f of layout.fields) {
    const raw = values[f.name];
    if (raw === undefined) {
      if (f.name.startsWith('_')) continue; // padding
      throw new UniformError(`kernel '${kernel.name}': uniform ${layout.struct}.${f.name} (${f.type}) not supplied`);
    }
    seen.add(f.name);
    const v = typeof raw === 'boolean' ? Number(raw) : raw;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new UniformError(`kernel '${kernel.name}': uniform ${layout.struct}.${f.name} is ${String(raw)}, want a ${f.type}`);
    if (f.type === 'f32') view.setFloat32(f.offset, v, true);
    else if (!Number.isInteger(v) || (f.type === 'u32' ? v < 0 || v > 0xffffffff : v < -0x80000000 || v > 0x7fffffff)) {
      throw new UniformError(`kernel '${kernel.name}': uniform ${layout.struct}.${f.name} is ${v}, not a ${f.type}`);
    } else if (f.type === 'u32') view.setUint32(f.offset, v, true);
    else view.setInt32(f.offset, v, true);
  }
  for (const k of Object.keys(values)) {
    if (!seen.has(k)) throw new UniformError(`kernel '${kernel.name}': ${layout.struct} has no field '${k}' (fields: ${layout.fields.map((f) => f.name).join(', ')})`);
  }
  return bytes;
}

/**
 * Workgroups covering `items` invocations per dimension with the kernel's own workgroup size.
 * A 1-D count over `maxPerDim` workgroups folds into y (kernels index with `gid.x + gid.y *
 * nwg.x * WG` for that, as grid1d does).
 */
export function workgroupsFor(kernel: Kernel, items: [number, number?, number?], maxPerDim = 65535): [number, number, number] {
  const [ix, iy, iz] = items;
  const [wx, wy, wz] = kernel.workgroupSize;
  const gx = Math.ceil(ix / wx);
  if (iy === undefined && iz === undefined && gx > maxPerDim) {
    const y = Math.ceil(gx / maxPerDim);
    return [Math.ceil(gx / y), y, 1];
  }
  return [gx, Math.ceil((iy ?? 1) / wy), Math.ceil((iz ?? 1) / wz)];
}

/** Rewrites `const NAME[: T] = value;` for every key in consts; throws if a key has no declaration. */
export function specialise(code: string, consts: Record<string, number | boolean> | undefined, name: string): string {
  if (!consts) return code;
  for (const [k, v] of Object.entries(consts)) {
    const re = new RegExp(`(const\\s+${k}\\s*(?::\\s*([\\w<>]+))?\\s*=\\s*)[^;]+;`);
    const m = re.exec(code);
    if (!m) throw new KernelCompileError(`kernel '${name}': no 'const ${k}' declaration to specialise`);
    const type = m[2];
    let lit: string;
    if (typeof v === 'boolean') lit = String(v);
    else if (type === 'f32' || (!Number.isInteger(v) && type !== 'u32' && type !== 'i32')) lit = formatF32(v);
    else lit = `${Math.trunc(v)}`;
    code = code.replace(re, `$1${lit};`);
  }
  return code;
}

function formatF32(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`non-finite f32 constant ${v}`);
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** Maps a line of the concatenated source back to its part. */
function locate(parts: WgslPart[], line: number): { file: string; line: number } {
  let start = 1;
  for (const p of parts) {
    const n = p.code.split('\n').length;
    if (line < start + n) return { file: p.file, line: line - start + 1 };
    start += n;
  }
  return { file: parts[parts.length - 1]?.file ?? '?', line };
}

export class KernelRegistry {
  private cache = new Map<string, Kernel>();

  constructor(private device: GPUDevice) {}

  get size(): number {
    return this.cache.size;
  }

  get(spec: KernelSpec): Kernel {
    const key = kernelKey(spec);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const kernel = this.compile(spec, key);
    this.cache.set(key, kernel);
    return kernel;
  }

  /** Awaits the compilation status of every kernel built so far. */
  async checkAll(): Promise<void> {
    for (const [key, k] of this.cache) {
      try {
        await k.compiled;
      } catch (e) {
        this.cache.delete(key); // reported once; a later get() recompiles (and fails again)
        throw e;
      }
    }
  }

  private reflected = new Map<string, Reflected>();

  /**
   * Storage buffers the kernel's entry point binds, from its WGSL (parsed and reflected, not
   * compiled): what an op checks against maxStorageBuffersPerShaderStage before choosing a
   * variant with more bindings (e.g. the vec4 views of the CPU matmul loop).
   */
  storageBuffers(spec: KernelSpec): number {
    const key = kernelKey(spec);
    let n = 0;
    for (const b of (this.cache.get(key) ?? this.reflect(spec, key)).bindings.values()) if (b.kind !== 'uniform') n++;
    return n;
  }

  private reflect(spec: KernelSpec, key: string): Reflected {
    const hit = this.reflected.get(key);
    if (hit) return hit;
    const r = reflectSpec(spec);
    this.reflected.set(key, r);
    return r;
  }

  private compile(spec: KernelSpec, key: string): Kernel {
    const { parts, code, entry, bindings, uniforms, workgroupSize } = this.reflect(spec, key);
    this.reflected.delete(key); // the compiled kernel carries what storageBuffers() needs
    const module = this.device.createShaderModule({ code, label: spec.name });

    const compiled = module.getCompilationInfo().then((info) => {
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length === 0) return;
      const lines = code.split('\n');
      const msg = errors
        .map((m) => {
          const loc = locate(parts, m.lineNum);
          return `${loc.file}:${loc.line}:${m.linePos}: ${m.message}\n    ${(lines[m.lineNum - 1] ?? '').trim()}`;
        })
        .join('\n');
      throw new KernelCompileError(`kernel '${spec.name}' failed to compile:\n${msg}`);
    });
    compiled.catch(() => {}); // surfaced by checkAll()/Gpu.checkErrors(), never as an unhandled rejection
    const pipeline = this.device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: entry },
      label: spec.name,
    });
    return { name: spec.name, key, pipeline, layout: pipeline.getBindGroupLayout(0), bindings, uniforms, workgroupSize, compiled };
  }
}

/** A kernel's specialised source and what reflection tells of its entry point. */
interface Reflected {
  parts: WgslPart[];
  code: string;
  entry: string;
  bindings: Map<string, BindingInfo>;
  uniforms: Map<string, UniformLayout>;
  workgroupSize: [number, number, number];
}

function reflectSpec(spec: KernelSpec): Reflected {
  const parts = hoistEnables(spec.parts.map((p) => ({ file: p.file, code: specialiseOptional(p.code, spec.consts) })));
  // Every constant must be declared in some part (a typo would otherwise be ignored).
  for (const k of Object.keys(spec.consts ?? {})) {
    if (!spec.parts.some((p) => declares(p.code, k))) {
      throw new KernelCompileError(`kernel '${spec.name}': no 'const ${k}' declaration to specialise`);
    }
  }
  const code = parts.map((p) => p.code).join('\n');
  let reflect: WgslReflect;
  try {
    reflect = new WgslReflect(code);
  } catch (e) {
    throw new KernelCompileError(`kernel '${spec.name}': WGSL parse error: ${(e as Error).message}`);
  }
  const entries = reflect.entry.compute;
  const entry = spec.entryPoint ? entries.find((f) => f.name === spec.entryPoint) : entries[0];
  if (!entry) throw new KernelCompileError(`kernel '${spec.name}': no compute entry point${spec.entryPoint ? ` '${spec.entryPoint}'` : ''}`);
  const ws = entry.workgroupSize ?? [1, 1, 1];
  const bindings = new Map<string, BindingInfo>();
  const uniforms = new Map<string, UniformLayout>();
  // Only resources the entry point uses appear in its 'auto' layout.
  for (const r of entry.resources) {
    // resourceType 0 = uniform, 1 = storage in wgsl_reflect's enum.
    const kind = r.resourceType === 0 ? 'uniform' : r.access === 'read' ? 'read-only-storage' : 'storage';
    bindings.set(r.name, { group: r.group, binding: r.binding, kind });
    if (kind === 'uniform') {
      const layout = uniformLayout(r.type as unknown as ReflectedStruct);
      if (layout) uniforms.set(r.name, layout);
    }
  }
  return { parts, code, entry: entry.name, bindings, uniforms, workgroupSize: [ws[0] ?? 1, ws[1] ?? 1, ws[2] ?? 1] };
}

interface ReflectedStruct {
  name: string;
  size?: number;
  members?: { name: string; type: { name: string }; offset: number }[];
}

function uniformLayout(t: ReflectedStruct | undefined): UniformLayout | null {
  if (!t?.members) return null;
  const fields: UniformField[] = [];
  for (const m of t.members) {
    const ty = m.type.name;
    if (ty !== 'u32' && ty !== 'i32' && ty !== 'f32') return null;
    fields.push({ name: m.name, type: ty, offset: m.offset });
  }
  const end = fields.reduce((a, f) => Math.max(a, f.offset + 4), 0);
  return { struct: t.name, size: Math.max(16, Math.ceil(Math.max(end, t.size ?? 0) / 16) * 16), fields };
}

function specialiseOptional(code: string, consts: Record<string, number | boolean> | undefined): string {
  if (!consts) return code;
  // Each constant lives in one part; specialise those parts where it is declared.
  const present: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(consts)) {
    if (declares(code, k)) present[k] = v;
  }
  return specialise(code, present, '');
}

function declares(code: string, name: string): boolean {
  // A declaration with a value: `const NAME[: T] = ...` (not a mention in a comment).
  return new RegExp(`const\\s+${name}\\s*(?::\\s*[\\w<>]+)?\\s*=`).test(code);
}

/**
 * WGSL wants `enable` directives before any declaration; a later part (e.g. the
 * matmul core's subgroup variant) may need one. Moves them into a leading part,
 * leaving a comment in place so that line numbers in errors stay right.
 */
function hoistEnables(parts: WgslPart[]): WgslPart[] {
  const enables = new Set<string>();
  const out = parts.map((p) => ({
    file: p.file,
    code: p.code.replace(/^[ \t]*enable[ \t]+[\w \t,]+;[ \t]*$/gm, (m) => {
      enables.add(m.trim());
      return `// (hoisted) ${m.trim()}`;
    }),
  }));
  return enables.size ? [{ file: '<enable directives>', code: [...enables].join('\n') }, ...out] : out;
}
