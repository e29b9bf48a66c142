// `mesh propose -f proposal.yaml`: checks a Proposal manifest against the CRD schema (naming
// every bad field) and creates it; the operator analyses it and opens voting.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import type { Proposal } from '../../crds/types.js';
import { validateResource } from '../../crds/validate.js';
import { KubeClient } from '../../operator/kube/client.js';
import { loadClusterConnection } from '../../operator/kube/config.js';
import { isAlreadyExists } from '../../operator/kube/errors.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { UsageError, type CliIo } from '../io.js';

interface ProposeFlags {
  file: string;
  namespace?: string;
  kubeconfig?: string;
}

/** Reads and checks the manifest; throws UsageError naming the file, field and rule. */
export function readProposal(file: string, namespace?: string): Proposal {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`-f ${file}: ${(error as Error).message}`);
  }
  const documents = parseAllDocuments(text);
  if (documents.length !== 1) throw new UsageError(`-f ${file}: expected exactly one YAML document, found ${documents.length}`);
  const document = documents[0]!;
  if (document.errors.length > 0) throw new UsageError(`-f ${file}: invalid YAML: ${document.errors[0]?.message ?? ''}`);
  const manifest = document.toJS() as Proposal;
  if (manifest?.kind !== 'Proposal') throw new UsageError(`-f ${file}: kind must be Proposal, got ${String((manifest as { kind?: unknown } | null)?.kind)}`);
  if (namespace) manifest.metadata = { ...manifest.metadata, namespace };
  if (!manifest.metadata?.namespace) throw new UsageError(`-f ${file}: metadata.namespace is required (or pass -n <namespace>)`);
  const issues = validateResource(manifest);
  if (issues.length > 0) throw new UsageError(`-f ${file}: invalid Proposal:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
  return manifest;
}

export async function propose(flags: ProposeFlags, io: CliIo): Promise<void> {
  const manifest = readProposal(flags.file, flags.namespace);
  const client = new KubeClient(await loadClusterConnection(flags.kubeconfig));
  try {
    const created = await client.create<Proposal>(MeshOsResources.proposal, manifest);
    io.stdout.write(`proposal ${created.metadata.namespace ?? ''}/${created.metadata.name ?? ''} created on mesh ${created.spec.meshRef}; the operator analyses it and opens voting (see mesh proposals)\n`);
  } catch (error) {
    if (isAlreadyExists(error)) throw new UsageError(`proposal ${manifest.metadata.namespace ?? ''}/${manifest.metadata.name ?? ''} already exists: what voters vote on is immutable, create a new Proposal`);
    throw error;
  } finally {
    await client.destroy();
  }
}

export function registerProposeCommand(program: Command, io: CliIo): void {
  program
    .command('propose')
    .description('Submit a governance Proposal (a change to a Mesh) from a YAML manifest')
    .requiredOption('-f, --file <file>', 'Proposal manifest (YAML; - for stdin)')
    .option('-n, --namespace <ns>', 'namespace of the Proposal (overrides metadata.namespace)')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .addHelpText('after', '\nExample:\n  mesh propose -f samples/proposal.yaml')
    .action((flags: ProposeFlags) => propose(flags, io));
}
