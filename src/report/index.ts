/**
 * The training report: RUN_DIR/report.html, one self-contained page (no network) with the loss
 * curves, learning rate, throughput, kNN/linear accuracy, embedding std and effective rank,
 * correlation heatmaps and a PCA scatter of the test representations. See docs/RUN-FORMAT.md.
 */

import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../io/file-write.js';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { buildReportData } from './data.js';
import { renderHtml } from './html.js';
import type { ReportData } from './types.js';

export type { ReportData } from './types.js';
export { buildReportData, parseMetrics } from './data.js';
export { renderHtml } from './html.js';

async function readJsonObject(path: string, name: string, notes: string[]): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    notes.push(`${name} is not a JSON object; not shown.`);
  } catch {
    notes.push(`${name} could not be parsed; not shown.`);
  }
  return null;
}

/** Reads RUN_DIR (config.json, summary.json when present, metrics.jsonl) into the page's data. */
export async function readRun(runDir: string): Promise<ReportData> {
  let st;
  try {
    st = await stat(runDir);
  } catch {
    throw new InputError('bad-file', `run directory not found: ${runDir}`);
  }
  if (!st.isDirectory()) throw new InputError('bad-file', `not a run directory: ${runDir}`);
  let metricsText: string;
  try {
    metricsText = await readFile(join(runDir, 'metrics.jsonl'), 'utf8');
  } catch {
    throw new InputError('bad-file', `no metrics.jsonl in ${runDir}`);
  }
  const notes: string[] = [];
  const config = await readJsonObject(join(runDir, 'config.json'), 'config.json', notes);
  const summary = await readJsonObject(join(runDir, 'summary.json'), 'summary.json', notes);
  if (!metricsText.trim()) notes.push('metrics.jsonl is empty: nothing recorded yet.');
  return buildReportData({ runDir, metricsText, config, summary, notes });
}

/** Writes RUN_DIR/report.html (atomically) and returns its path. */
export async function writeReport(runDir: string): Promise<string> {
  const data = await readRun(runDir);
  const html = await renderHtml(data);
  const out = join(runDir, 'report.html');
  writeFileAtomic(out, html);
  return out;
}
