/**
 * `npm run train -- --ranks N ...`: runs this same entry point as N ranks under mpirun and
 * turns mpirun's multi-line failure banners into one line (docs/distributed.md).
 */
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Software Vulkan (lavapipe) threads per rank: the cores split between the ranks of this node. */
export function threadsPerRank(env: NodeJS.ProcessEnv = process.env): number {
  const local = Number(env.OMPI_COMM_WORLD_LOCAL_SIZE ?? env.OMPI_COMM_WORLD_SIZE ?? 1);
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, local)));
}

/**
 * Called first in each rank: sets LP_NUM_THREADS (read by lavapipe when the device opens)
 * unless the user did. Node's process.env writes through to the C environment.
 */
export function prepareRankEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  env.LP_NUM_THREADS ??= String(threadsPerRank(env));
}

export function mpirunAvailable(): boolean {
  return spawnSync('mpirun', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** mpirun's options for N local ranks (root needs --allow-run-as-root; more ranks than cores --oversubscribe). */
export function mpirunArgs(n: number): string[] {
  const a: string[] = [];
  if (process.getuid?.() === 0) a.push('--allow-run-as-root');
  if (process.getuid?.() === 0 || n > availableParallelism()) a.push('--oversubscribe');
  return [...a, '-np', String(n)];
}

/**
 * Runs `node <this script> <args>` as N ranks; resolves with the job's exit code. SIGINT/SIGTERM
 * become SIGUSR1 to mpirun, which forwards it to every rank (each finishes the step the ranks
 * agree on; rank 0 checkpoints). A failed job ends with one line naming the rank and cause.
 */
export async function launchRanks(n: number, script: string, args: string[], log: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  if (!mpirunAvailable()) {
    log('vicreg: error: --ranks needs Open MPI\'s mpirun (apt-get install openmpi-bin libopenmpi-dev, or scripts/setup.sh)\n');
    return 2;
  }
  const env = { ...process.env, LP_NUM_THREADS: process.env.LP_NUM_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / n))) };
  const child = spawn('mpirun', [...mpirunArgs(n), '-x', 'LP_NUM_THREADS', process.execPath, ...process.execArgv, script, ...args], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env,
  });
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) child.kill('SIGTERM'); // a second signal: mpirun ends the job now
      else child.kill('SIGUSR1');
      stopping = true;
    });
  }
  const banner: string[] = [];
  let inBanner = false;
  let pending = '';
  const debug = !!process.env.VICREG_DEBUG;
  child.stderr!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      // mpirun's banners sit between lines of dashes: keep them for the summary line.
      if (/^-{20,}$/.test(line)) {
        inBanner = !inBanner;
        if (debug) log(line + '\n');
        continue;
      }
      if (inBanner) {
        banner.push(line);
        if (debug) log(line + '\n');
      } else log(line + '\n');
    }
  });
  const code = await new Promise<number>((res) => child.on('exit', (c, s) => res(c ?? (s ? 128 + 15 : 1))));
  if (pending) log(pending + '\n');
  const why = summarizeBanner(banner.join('\n'));
  if (code !== 0 && why) log(`vicreg-train: ${why}; the job was ended (all ${n} ranks)\n`);
  return code;
}

/** One line from mpirun's failure banner (rank and exit code or signal), or null. */
export function summarizeBanner(text: string): string | null {
  const sig = /process rank (\d+) with PID \d+ on node \S+ exited on signal (\d+) \(([^)]+)\)/.exec(text);
  if (sig) return `rank ${sig[1]} was killed by signal ${sig[2]} (${sig[3]})`;
  const exit = /Process name:\s+\[\[\d+,\d+\],(\d+)\][\s\S]*?Exit code:\s+(\d+)/.exec(text);
  if (exit) return `rank ${exit[1]} exited with code ${exit[2]}`;
  if (/MPI_ABORT was invoked on rank (\d+)/.test(text)) return `rank ${/MPI_ABORT was invoked on rank (\d+)/.exec(text)![1]} called MPI_Abort`;
  return text.trim() ? 'mpirun: ' + text.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' ') : null;
}
