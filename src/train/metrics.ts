/** DIR/metrics.jsonl (docs/RUN-FORMAT.md): one JSON object per line, appended in time order. */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export class MetricsLog {
  constructor(readonly file: string) {}

  write(rec: Record<string, unknown>): void {
    appendFileSync(this.file, JSON.stringify(rec) + '\n');
  }

  /** Starts a fresh log. */
  reset(): void {
    writeFileSync(this.file, '');
  }

  /**
   * Continues a log from a checkpoint at `step`: keeps the records up to that step (from
   * `from`, the old run directory's log, when resuming into a new directory) and drops those
   * written after it by the interrupted process, so steps never repeat.
   */
  resumeFrom(from: string, step: number): void {
    const text = existsSync(from) ? readFileSync(from, 'utf8') : '';
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as { step?: number; type?: string };
        const s = r.step ?? 0;
        // End-of-run records at the checkpoint's step are written again after the resume.
        const rewritten = s === step && s > 0 && (r.type === 'eval' || r.type === 'corr');
        if (s <= step && r.type !== 'pca' && !rewritten) kept.push(line);
      } catch {
        // a line torn by the kill: drop it
      }
    }
    writeFileSync(this.file, kept.map((l) => l + '\n').join(''));
  }
}
