/** Types for dawn-log-filter.mjs (imported by its test). */
export function dawnLogFilter(write: (text: string) => void): { push(text: string): void; end(): void };
