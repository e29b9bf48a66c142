// Builds (or finds cached) every pinned binary, printing one line per binary.
// Usage: npx tsx test/harness/build-binaries-cli.ts [name ...]
import { BINARY_NAMES, ensureBinaries, printBinaryProgress, type BinaryName } from './binaries.js';

function isBinaryName(name: string): name is BinaryName {
  return (BINARY_NAMES as readonly string[]).includes(name);
}

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !isBinaryName(name));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown binaries: ${unknown.join(', ')} (known: ${BINARY_NAMES.join(', ')})\n`);
    return 2;
  }
  const names = requested.length > 0 ? requested.filter(isBinaryName) : [...BINARY_NAMES];
  const started = Date.now();
  const paths = await ensureBinaries(names, { onProgress: printBinaryProgress });
  for (const name of names) process.stdout.write(`${name}\t${paths[name]}\n`);
  process.stderr.write(`All ${names.length} binaries ready in ${Math.round((Date.now() - started) / 1000)} s\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
