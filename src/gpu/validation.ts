/**
 * VICREG_VALIDATE=1: runs Dawn's Vulkan backend under the Khronos validation layer and logs
 * every layer message to a file, so that a test run can assert there were none
 * (scripts/validate.sh). Node only; nothing here is imported in a browser (dynamic imports).
 *
 * Debian's chromium package ships the layer library without a manifest, and the Vulkan loader
 * only loads layers it finds a JSON manifest for: we write one into a temp dir and add that
 * dir to VK_ADD_LAYER_PATH. Dawn's `validate=1` instance flag (backend validation level
 * "full") then enables the layer itself and labels its Vulkan objects; the layer's own
 * settings come from VK_KHRONOS_VALIDATION_* variables, read when the VkInstance is made.
 */

/** Where the layer library may be: VICREG_VK_LAYER_LIB, Chromium's copy, Debian's vulkan-validationlayers. */
const LAYER_LIBS = ['/usr/lib/chromium/libVkLayer_khronos_validation.so', '/usr/lib/x86_64-linux-gnu/libVkLayer_khronos_validation.so'];

export interface ValidationSetup {
  /** Dawn instance flags to add to create(). */
  flags: string[];
  /** The file the layer writes its messages to (empty while there are none). */
  logFile: string;
}

/** True when VICREG_VALIDATE asks for the layer (1/true/yes). */
export function validationRequested(env: Record<string, string | undefined> = globalThis.process?.env ?? {}): boolean {
  return /^(1|true|yes)$/i.test(env.VICREG_VALIDATE ?? '');
}

/** The log directory: VICREG_VALIDATE_LOG_DIR, else <tmp>/vicreg-validate. */
export async function validationLogDir(): Promise<string> {
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  return process.env.VICREG_VALIDATE_LOG_DIR || join(tmpdir(), 'vicreg-validate');
}

/**
 * Prepares the validation layer for the next Dawn instance: writes the manifest, sets the
 * loader's and the layer's variables. `logFile` defaults to <log dir>/vvl-<pid>.log (vitest
 * runs each test file in its own process). Throws when the layer library is nowhere to be
 * found: a validation run that silently ran without the layer would prove nothing.
 */
export async function enableValidation(logFile?: string): Promise<ValidationSetup> {
  const fs = await import('node:fs');
  const { join } = await import('node:path');
  const env = process.env;
  const lib = [env.VICREG_VK_LAYER_LIB, ...LAYER_LIBS].find((p) => p && fs.existsSync(p));
  if (!lib) {
    throw new Error(
      `VICREG_VALIDATE: no Khronos validation layer (looked for ${[env.VICREG_VK_LAYER_LIB, ...LAYER_LIBS].filter(Boolean).join(', ')}); ` +
        `install Debian's chromium (it ships the layer) or set VICREG_VK_LAYER_LIB`,
    );
  }
  const dir = await validationLogDir();
  const layerDir = join(dir, 'layer');
  fs.mkdirSync(layerDir, { recursive: true });
  const manifest = {
    file_format_version: '1.2.0',
    layer: {
      name: 'VK_LAYER_KHRONOS_validation',
      type: 'GLOBAL',
      library_path: lib,
      api_version: '1.4.303',
      implementation_version: '1',
      description: 'Khronos validation layer (manifest written by vicreg-webgpu)',
    },
  };
  // Write-then-rename: test processes started together must never read a half-written manifest.
  const tmp = join(layerDir, `.manifest-${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2));
  fs.renameSync(tmp, join(layerDir, 'VkLayer_khronos_validation.json'));
  const file = logFile ?? join(dir, `vvl-${process.pid}.log`);
  env.VK_ADD_LAYER_PATH = env.VK_ADD_LAYER_PATH ? `${layerDir}:${env.VK_ADD_LAYER_PATH}` : layerDir;
  // Log every message (errors, warnings, performance warnings) to the file, nothing else.
  env.VK_KHRONOS_VALIDATION_DEBUG_ACTION = 'VK_DBG_LAYER_ACTION_LOG_MSG';
  env.VK_KHRONOS_VALIDATION_LOG_FILENAME = file;
  env.VK_KHRONOS_VALIDATION_REPORT_FLAGS ??= 'error,warn,perf';
  // Synchronisation validation: Dawn's barriers between our dispatches and copies.
  env.VK_KHRONOS_VALIDATION_VALIDATE_SYNC ??= 'true';
  return { flags: ['validate=1'], logFile: file };
}

/** The layer's messages in a log file: one entry per "Validation Error/Warning/Performance…" header. */
export async function validationMessages(logFile: string): Promise<string[]> {
  const fs = await import('node:fs');
  if (!fs.existsSync(logFile)) return [];
  return parseValidationLog(fs.readFileSync(logFile, 'utf8'));
}

/** Splits a layer log into messages (each starts with "Validation <Kind>:"). */
export function parseValidationLog(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (/^Validation (Error|Warning|Performance Warning|Information)/.test(line)) out.push(line);
    else if (out.length && line.trim()) out[out.length - 1] += `\n${line}`;
    else if (line.trim()) out.push(line); // anything unexpected counts as a message too
  }
  return out;
}
