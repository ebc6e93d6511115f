/** Entry point of `npm run vicreg -- COMMAND ...` (the commands and error contract live in main.ts). */
import { main, realStdoutWrite, reportError, stderrWrite } from './main.js';

function exit(code: number): void {
  // Flush both streams, then exit even if a native handle (the GPU instance) is still open.
  realStdoutWrite('', () => stderrWrite('', () => process.exit(code)));
}

process.on('uncaughtException', (e) => exit(reportError(e)));
process.on('unhandledRejection', (e) => exit(reportError(e)));

main(process.argv.slice(2)).then(exit, (e) => exit(reportError(e)));
