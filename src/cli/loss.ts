/** `vicreg loss Z1.npy Z2.npy`: the VICReg loss, its terms and (optionally) gradients of two views. */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { createGpu } from '../gpu/device.js';
import { readNpy, writeNpy, type NpyArray } from '../io/npy.js';
import { makeDirs, WriteError } from '../io/file-write.js';
import { vicregLossHost, type Convention, type Form, type VicregOptions } from '../vicreg/loss.js';
import { validateOptions, validatePair, firstNonFinite } from '../vicreg/validate.js';
import { parseArgs, type ArgSpec } from './args.js';
import type { CliCommand } from './command.js';

const USAGE = `usage: vicreg loss Z1.npy Z2.npy [options]

Computes the VICReg loss of two (n, d) float arrays (numpy .npy, float32 or float64) on the GPU.

options:
  --convention official|paper   variance/covariance normalisation (default official)
  --form auto|cov|gram          covariance (d x d) or Gram (n x n) formulation (default auto)
  --lambda X                    invariance weight (default 25)
  --mu X                        variance weight (default 25)
  --nu X                        covariance weight (default 1)
  --gamma X                     target standard deviation (default 1)
  --eps X                       variance epsilon, > 0 (default 1e-4)
  --grad-out DIR                write DIR/grad_z1.npy and DIR/grad_z2.npy (float32, (n, d))
  --json                        print one JSON object: loss, invariance, variance, covariance,
                                n, d, form, convention, adapter, tuning
  --help                        this text

exit status: 0 ok, 2 bad input or usage, 1 internal or GPU error`;

const SPEC: ArgSpec = {
  positionals: ['Z1.npy', 'Z2.npy'],
  options: {
    convention: { type: 'choice', choices: ['official', 'paper'] },
    form: { type: 'choice', choices: ['auto', 'cov', 'gram'] },
    lambda: { type: 'number', min: 0 },
    mu: { type: 'number', min: 0 },
    nu: { type: 'number', min: 0 },
    gamma: { type: 'number', min: 0 },
    eps: { type: 'number', min: 0, minExclusive: true },
    'grad-out': { type: 'string', metavar: 'DIR' },
    json: { type: 'boolean' },
  },
};

/** Creates DIR (and parents) or fails with a one-line InputError before any GPU work. */
function prepareGradDir(dir: string): void {
  makeDirs(dir, '--grad-out');
}

/** validatePair, with a clearer message when a float64 value overflowed float32 on loading. */
function validateFiles(a: NpyArray, file1: string, b: NpyArray, file2: string): { n: number; d: number } {
  try {
    return validatePair(a.data, a.shape, b.data, b.shape, [file1, file2]);
  } catch (e) {
    if (!(e instanceof InputError) || e.code !== 'non-finite') throw e;
    for (const [x, file] of [[a, file1], [b, file2]] as const) {
      const k = firstNonFinite(x.data);
      if (k < 0) continue;
      if (x.overflow && x.overflow.index === k) {
        const dd = x.shape[1]!;
        throw new InputError(
          'non-finite',
          `${file}: float64 value ${x.overflow.value} at index [${Math.floor(k / dd)}, ${k % dd}] is beyond the float32 range (±3.4e38)`,
        );
      }
      break;
    }
    throw e;
  }
}

function fmt(x: number): string {
  return x.toPrecision(10);
}

export const lossCommand: CliCommand = {
  name: 'loss',
  summary: 'loss Z1.npy Z2.npy   VICReg loss, its three terms and gradients of two (n, d) views',
  usage: USAGE,
  async run(argv, io) {
    const { positionals, options } = parseArgs(argv, SPEC);
    const [file1, file2] = positionals as [string, string];
    const opts: VicregOptions = {
      convention: (options.convention as Convention | undefined) ?? 'official',
      form: (options.form as Form | undefined) ?? 'auto',
    };
    for (const k of ['lambda', 'mu', 'nu', 'gamma', 'eps'] as const) {
      if (options[k] !== undefined) opts[k] = options[k] as number;
    }
    validateOptions(opts);
    const gradDir = options['grad-out'] as string | undefined;

    // All input checks happen before the GPU is touched.
    const a = readNpy(file1);
    const b = readNpy(file2);
    const { n, d } = validateFiles(a, file1, b, file2);
    if (gradDir !== undefined) prepareGradDir(gradDir);

    const gpu = await createGpu();
    const r = await vicregLossHost(gpu, a.data, b.data, n, d, opts);
    const terms = [r.loss, r.invariance, r.variance, r.covariance];
    if (!terms.every(Number.isFinite) || firstNonFinite(r.gradZ1) >= 0 || firstNonFinite(r.gradZ2) >= 0) {
      throw new InputError(
        'non-finite',
        `the loss or its gradients overflowed float32 (values too large?): loss ${r.loss}, invariance ${r.invariance}, variance ${r.variance}, covariance ${r.covariance}`,
      );
    }
    let gradFiles: string[] = [];
    if (gradDir !== undefined) {
      gradFiles = [join(gradDir, 'grad_z1.npy'), join(gradDir, 'grad_z2.npy')];
      try {
        writeNpy(gradFiles[0]!, r.gradZ1, [n, d]);
        writeNpy(gradFiles[1]!, r.gradZ2, [n, d]);
      } catch (e) {
        if (e instanceof WriteError) throw e; // names the file, the cause and the space needed
        const code = (e as NodeJS.ErrnoException).code;
        throw new InputError('bad-option', `--grad-out ${gradDir}: cannot write gradients (${code ?? (e as Error).message})`);
      }
    }
    const convention = opts.convention!;
    if (options.json) {
      io.out(
        JSON.stringify({
          loss: r.loss,
          invariance: r.invariance,
          variance: r.variance,
          covariance: r.covariance,
          n,
          d,
          form: r.form,
          convention,
          adapter: gpu.adapterName,
          tuning: gpu.tuning,
        }) + '\n',
      );
    } else {
      const lines = [
        `VICReg loss of ${file1} and ${file2}: n = ${n}, d = ${d}`,
        `  convention ${convention}, form ${r.form}, adapter ${gpu.adapterName}, ${gpu.tuning} kernels`,
        `  loss        ${fmt(r.loss)}`,
        `  invariance  ${fmt(r.invariance)}   (weight lambda ${opts.lambda ?? 25})`,
        `  variance    ${fmt(r.variance)}   (weight mu ${opts.mu ?? 25})`,
        `  covariance  ${fmt(r.covariance)}   (weight nu ${opts.nu ?? 1})`,
      ];
      if (gradFiles.length) lines.push(`  gradients   ${gradFiles.join(', ')} (float32, (${n}, ${d}))`);
      io.out(lines.join('\n') + '\n');
    }
    return 0;
  },
};
