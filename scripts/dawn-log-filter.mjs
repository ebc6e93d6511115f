// Drops Dawn's two start-up lines "Warning: maxDynamic{Uniform,Storage}BuffersPerPipelineLayout
// artificially reduced from N to M to fit dynamic offset allocation limit." from a stream.
// Dawn's Vulkan backend prints them (C stdio, no logging callback in dawn.node) when it first
// enumerates an adapter whose driver reports huge dynamic-buffer counts (lavapipe: 1000000),
// whatever limits are requested, so only the launcher can keep them off the user's terminal.
// Everything else passes through as it comes, including partial lines (progress with '\r').
const DAWN_LINE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;
const PREFIX = 'Warning: maxDynamic';

/** Returns { push(text), end() } that call `write` with the filtered text. */
export function dawnLogFilter(write) {
  let held = ''; // the start of a line that may still turn out to be Dawn's
  let passing = false; // the current line is already known not to be Dawn's
  const push = (text) => {
    let out = '';
    let rest = text;
    while (rest.length) {
      const nl = rest.indexOf('\n');
      const piece = nl < 0 ? rest : rest.slice(0, nl + 1);
      rest = nl < 0 ? '' : rest.slice(nl + 1);
      if (passing) {
        out += piece;
      } else {
        held += piece;
        const line = held.endsWith('\n') ? held.slice(0, -1) : null;
        if (line !== null) {
          if (!DAWN_LINE.test(line)) out += held;
          held = '';
        } else if (!PREFIX.startsWith(held.slice(0, PREFIX.length)) || (held.length >= PREFIX.length && !held.startsWith(PREFIX))) {
          out += held;
          held = '';
          passing = true;
        }
        continue;
      }
      if (piece.endsWith('\n')) passing = false;
    }
    if (out) write(out);
  };
  // A held partial line at the end is not Dawn's (its lines end with '\n').
  const end = () => {
    if (held) write(held);
    held = '';
  };
  return { push, end };
}
