/**
 * `node scripts/run.mjs bench/train.ts ...` (mpirun command lines, older scripts): the training
 * command line, which lives in src/cli/train.ts.
 */
import '../src/cli/train.js';
