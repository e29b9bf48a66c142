// Generates the discovery API's TypeScript (ts-proto, grpc-js services) and the descriptor
// set that server reflection serves, into discovery/generated. `--check` regenerates into a
// temporary folder and fails when the committed files differ (stale generated code).
//   npx tsx discovery/generate.ts [--check]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const GENERATED_DIR = join(root, 'discovery', 'generated');
const PROTO_DIR = join(root, 'discovery', 'proto');
// grpc.health.v1 comes from the memory service's copy of the upstream file.
const HEALTH_PROTO_DIR = join(root, 'kernel', 'memory', 'proto');
const PROTOS = ['meshos/discovery/v1/discovery.proto', 'grpc/health/v1/health.proto'];
export const DESCRIPTOR_SET = 'discovery.desc';
const TS_PROTO_OPTIONS = 'outputServices=grpc-js,esModuleInterop=true,importSuffix=.js,forceLong=number';

function protoc(): string {
  const candidates = [process.env['PROTOC'], '/usr/bin/protoc', '/usr/local/bin/protoc'].filter((path): path is string => !!path);
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error('protoc not found: install Debian protobuf-compiler (apt-get install protobuf-compiler) or set PROTOC');
  return found;
}

export function generateInto(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const plugin = join(root, 'node_modules', '.bin', 'protoc-gen-ts_proto');
  execFileSync(
    protoc(),
    [
      `--plugin=protoc-gen-ts_proto=${plugin}`,
      `--ts_proto_out=${outDir}`,
      `--ts_proto_opt=${TS_PROTO_OPTIONS}`,
      `--descriptor_set_out=${join(outDir, DESCRIPTOR_SET)}`,
      '--include_imports',
      '--include_source_info',
      `-I${PROTO_DIR}`,
      `-I${HEALTH_PROTO_DIR}`,
      ...PROTOS,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => relative(dir, path))
    .sort();
}

/** Paths under `GENERATED_DIR` that are missing, extra or different from a fresh generation. */
export function staleFiles(): string[] {
  const fresh = mkdtempSync(join(tmpdir(), 'meshos-discovery-gen-'));
  try {
    generateInto(fresh);
    const expected = filesUnder(fresh);
    const actual = filesUnder(GENERATED_DIR);
    const stale = new Set<string>();
    for (const path of expected) {
      const current = join(GENERATED_DIR, path);
      if (!existsSync(current) || !readFileSync(current).equals(readFileSync(join(fresh, path)))) stale.add(path);
    }
    for (const path of actual) if (!expected.includes(path)) stale.add(path);
    return [...stale].sort();
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

function main(): void {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length > 0) {
      console.error(`discovery/generated is stale (${stale.join(', ')}): run npx tsx discovery/generate.ts`);
      process.exit(1);
    }
    console.log('discovery/generated is up to date');
    return;
  }
  const fresh = mkdtempSync(join(tmpdir(), 'meshos-discovery-gen-'));
  try {
    generateInto(fresh);
    rmSync(GENERATED_DIR, { recursive: true, force: true });
    cpSync(fresh, GENERATED_DIR, { recursive: true });
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
  console.log(`Generated ${filesUnder(GENERATED_DIR).join(', ')} in discovery/generated`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
