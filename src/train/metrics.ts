/**
 * DIR/metrics.jsonl (docs/RUN-FORMAT.md): one JSON object per line, appended in time order.
 * Each record is appended whole or not at all (appendLines), so a full disk never leaves a
 * torn line; a line torn by a kill is dropped when a run resumes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendLines, writeFileAtomic } from '../io/file-write.js';

/** Records written again when a run resumes from a checkpoint at `step`. */
function rewrittenOnResume(r: { step?: number; type?: string }, step: number, finished: boolean): boolean {
  const s = r.step ?? 0;
  if (r.type === 'pca') return true;
  if (s !== step || s === 0) return false;
  // End-of-run records come again after the resume; so do the last epoch's diagnostics when
  // the run had already finished (they are recomputed before the final evaluation).
  return r.type === 'eval' || r.type === 'corr' || (finished && (r.type === 'epoch' || r.type === 'std_hist'));
}

export class MetricsLog {
  constructor(readonly file: string) {}

  write(rec: Record<string, unknown>): void {
    appendLines(this.file, JSON.stringify(rec) + '\n');
  }

  /** Starts a fresh log. */
  reset(): void {
    writeFileAtomic(this.file, '');
  }

  /**
   * Continues a log from a checkpoint at `step`: keeps the records up to that step (from
   * `from`, the old run directory's log, when resuming into a new directory) and drops those
   * written after it by the interrupted process, so steps never repeat. `finished`: the
   * checkpoint is the run's last step (a resume that only re-evaluates).
   */
  resumeFrom(from: string, step: number, finished = false): void {
    const text = existsSync(from) ? readFileSync(from, 'utf8') : '';
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as { step?: number; type?: string };
        if ((r.step ?? 0) <= step && !rewrittenOnResume(r, step, finished)) kept.push(line);
      } catch {
        // a line torn by the kill: drop it
      }
    }
    writeFileAtomic(this.file, kept.map((l) => l + '\n').join(''));
  }
}
