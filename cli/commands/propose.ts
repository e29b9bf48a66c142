// `mesh propose -f proposal.yaml`: checks a Proposal manifest against the CRD schema (naming
// every bad field) and creates it; the operator analyses it and opens voting.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import type { Proposal } from '../../crds/types.js';
import { validateResource } from '../../crds/validate.js';
import { isAlreadyExists } from '../../operator/kube/errors.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { UsageError, type CliIo } from '../io.js';
import { ObjectError, addKubeOptions, contextNamespace, objectRef, withKube, type KubeFlags } from '../kube.js';

interface ProposeFlags extends Partial<KubeFlags> {
  file: string;
}

/**
 * Reads and checks the manifest; throws UsageError naming the file, field and rule. `namespace`
 * (-n) overrides metadata.namespace; `defaultNamespace` (the context's) fills it when missing.
 */
export function readProposal(file: string, namespace?: string, defaultNamespace?: string): Proposal {
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
  else if (!manifest.metadata?.namespace && defaultNamespace) manifest.metadata = { ...manifest.metadata, namespace: defaultNamespace };
  if (!manifest.metadata?.namespace) throw new UsageError(`-f ${file}: metadata.namespace is required (or pass -n <namespace>)`);
  const issues = validateResource(manifest);
  if (issues.length > 0) throw new UsageError(`-f ${file}: invalid Proposal:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
  return manifest;
}

export async function propose(flags: ProposeFlags, io: CliIo): Promise<void> {
  // Read once (-f - is stdin) and before connecting: a bad manifest is a usage error without a cluster.
  // Without -n or metadata.namespace, the context's namespace, as withKube would pick it.
  const manifest = readProposal(flags.file, flags.namespace, contextNamespace(flags.kubeconfig, flags.context) ?? 'default');
  await withKube(flags, async ({ client }) => {
    const ref = objectRef('Proposal', manifest.metadata.namespace, manifest.metadata.name);
    let created: Proposal;
    try {
      created = await client.create<Proposal>(MeshOsResources.proposal, manifest);
    } catch (error) {
      if (isAlreadyExists(error)) throw new ObjectError(ref, new Error('already exists: what voters vote on is immutable, create a new Proposal'));
      throw new ObjectError(ref, error);
    }
    io.stdout.write(`proposal ${created.metadata.namespace ?? ''}/${created.metadata.name ?? ''} created on mesh ${created.spec.meshRef}; the operator analyses it and opens voting (see mesh proposals)\n`);
  });
}

export function registerProposeCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('propose')
      .description('Submit a governance Proposal (a change to a Mesh) from a YAML manifest')
      .requiredOption('-f, --file <file>', 'Proposal manifest (YAML; - for stdin)'),
    { outputs: [], allNamespaces: false, namespaceHelp: "namespace of the Proposal (default: metadata.namespace, else the context's namespace)" },
  )
    .addHelpText('after', "\n-n overrides the manifest's metadata.namespace; without either, the context's namespace is used.\n\nExample:\n  mesh propose -f samples/proposal.yaml -n meshos-demo")
    .action((flags: ProposeFlags) => propose(flags, io));
}
