// The package's bare import breaks under Node/vitest/esbuild; we import the module build directly.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect/types/index.js';
}
