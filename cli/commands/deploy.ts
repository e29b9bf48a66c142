// `mesh deploy -f agent.yaml`: server-side apply of the manifests, then a wait until every Agent
// is Ready, with progress, and a reason on timeout that says where it is stuck (operator,
// scheduler, image, node).
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import type { Agent } from '../../crds/types.js';
import { resourceTypeOf, serverSideApply } from '../../operator/kube/apply.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { AGENT_LABEL } from '../../operator/controllers/workload.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../../operator/kube/resources.js';
import { parseDuration } from '../../operator/util/duration.js';
import { SilentExit, UsageError, type CliIo } from '../io.js';
import { ObjectError, addKubeOptions, describeError, objectRef, withKube, type KubeFlags } from '../kube.js';
import { asList, colorEnabled, paint, serialize } from '../output.js';

export const FIELD_MANAGER = 'mesh-cli';

/** Reads manifests from files (or `-` for stdin), rejecting what cannot be applied with the file and document named. */
export function parseManifests(text: string, source: string): KubeObject[] {
  const manifests: KubeObject[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    const where = `${source} document ${index + 1}`;
    if (document.errors.length > 0) throw new UsageError(`${where}: invalid YAML: ${document.errors.map((e) => e.message).join('; ')}`);
    const value = document.toJS() as unknown;
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${where}: expected a Kubernetes object (a mapping with apiVersion, kind, metadata)`);
    const object = value as Partial<KubeObject> & { kind?: unknown; apiVersion?: unknown };
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') throw new UsageError(`${where}: apiVersion and kind are required`);
    if (typeof object.metadata?.name !== 'string' || object.metadata.name === '') throw new UsageError(`${where}: metadata.name is required (${object.kind})`);
    try {
      resourceTypeOf(object);
    } catch (error) {
      throw new UsageError(`${where}: ${describeError(error)}; mesh deploy applies Mesh OS kinds (Mesh, Agent, Proposal) and core kinds such as Namespace, ConfigMap, Secret (use kubectl apply for others)`);
    }
    manifests.push(object as KubeObject);
  });
  return manifests;
}

type PodView = KubeObject & {
  spec?: { nodeName?: string; schedulerName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: { name: string; ready?: boolean; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } } }[];
  };
};

/** Where one Agent is on its way to Ready, and why it is not there yet. */
export interface AgentProgress {
  ref: string;
  ready: boolean;
  replicas: string;
  /** Why it is not Ready, in words (empty when Ready). */
  reason: string;
}

/** Explains an Agent's state from its status and its pods. Pure. */
export function agentProgress(agent: Agent, pods: readonly PodView[], now: number = Date.now()): AgentProgress {
  const ref = objectRef('Agent', agent.metadata.namespace, agent.metadata.name);
  const status = agent.status;
  const replicas = status?.replicaSummary ?? `${status?.readyReplicas ?? 0}/${agent.spec.runtime.replicas ?? 1}`;
  const current = status?.observedGeneration !== undefined && status.observedGeneration >= (agent.metadata.generation ?? 1);
  if (current && status?.phase === 'Ready') return { ref, ready: true, replicas, reason: '' };
  if (!current) {
    return { ref, ready: false, replicas, reason: 'the operator has not reconciled this generation yet (is it running? mesh status shows its leader)' };
  }
  const reasons: string[] = [];
  const readyCondition = status?.conditions?.find((c) => c.type === 'Ready' && c.status !== 'True');
  if (readyCondition) reasons.push(`${status?.phase ?? 'Pending'}: ${readyCondition.reason}${readyCondition.message ? ` (${readyCondition.message})` : ''}`);
  else reasons.push(status?.phase ?? 'Pending');
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (!pod.spec?.nodeName) {
      if (scheduled?.status === 'False') reasons.push(`pod ${name} unschedulable: ${scheduled.message ?? scheduled.reason ?? ''}`);
      else {
        // A scheduler usually binds within seconds; after 30 s, the likely cause is that none by this name runs.
        const waited = now - Date.parse(pod.metadata.creationTimestamp ?? '');
        const scheduler = pod.spec?.schedulerName ?? 'default-scheduler';
        reasons.push(waited > 30_000 ? `pod ${name} not scheduled after ${Math.round(waited / 1000)}s: no scheduler named "${scheduler}" has bound it (is it running?)` : `pod ${name} waiting for scheduler "${scheduler}"`);
      }
      continue;
    }
    for (const container of pod.status?.containerStatuses ?? []) {
      const waiting = container.state?.waiting;
      if (waiting?.reason) reasons.push(`pod ${name} on ${pod.spec.nodeName}: container ${container.name} ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`);
      const terminated = container.state?.terminated;
      if (terminated) reasons.push(`pod ${name} on ${pod.spec.nodeName}: container ${container.name} terminated (${terminated.reason ?? 'exit'} ${terminated.exitCode ?? ''})`);
    }
    if (pod.status?.phase === 'Pending' && !(pod.status.containerStatuses ?? []).length) reasons.push(`pod ${name} on ${pod.spec.nodeName}: Pending`);
  }
  return { ref, ready: false, replicas, reason: reasons.join('; ') };
}

async function progressOf(client: KubeClient, key: { namespace: string; name: string }): Promise<AgentProgress> {
  const ref = objectRef('Agent', key.namespace, key.name);
  try {
    const agent = await client.get<Agent>(MeshOsResources.agent, key.namespace, key.name);
    const pods = await client.list<PodView>(CoreResources.pod, key.namespace, { labelSelector: `${AGENT_LABEL}=${key.name}` });
    return agentProgress(agent, pods.items);
  } catch (error) {
    return { ref, ready: false, replicas: '-', reason: describeError(error) };
  }
}

interface DeployFlags extends KubeFlags {
  file: string[];
  wait: boolean;
  timeout: number;
}

/** Applies the manifests and waits for the Agents; returns false when the wait timed out. */
export async function deploy(flags: DeployFlags, io: CliIo, readStdin: () => Promise<string> = readAllStdin): Promise<boolean> {
  const manifests: KubeObject[] = [];
  for (const file of flags.file) {
    const text = file === '-' ? await readStdin() : await readFile(file, 'utf8').catch((error: unknown) => {
      throw new UsageError(`-f ${file}: ${describeError(error)}`);
    });
    manifests.push(...parseManifests(text, file === '-' ? 'stdin' : file));
  }
  if (manifests.length === 0) throw new UsageError(`-f ${flags.file.join(', ')}: no objects to apply`);

  return withKube(flags, async ({ client, namespace }) => {
    const applied: KubeObject[] = [];
    for (const manifest of manifests) {
      const type = resourceTypeOf(manifest);
      if (type.namespaced && !manifest.metadata.namespace) manifest.metadata.namespace = namespace;
      if (type.namespaced && flags.namespace !== undefined && manifest.metadata.namespace !== flags.namespace) {
        throw new UsageError(`${objectRef(manifest.kind, manifest.metadata.namespace, manifest.metadata.name)}: its namespace does not match -n ${flags.namespace}`);
      }
      try {
        applied.push(await serverSideApply(client, manifest, FIELD_MANAGER));
      } catch (error) {
        throw new ObjectError(objectRef(manifest.kind, manifest.metadata.namespace, manifest.metadata.name), error);
      }
      // As kubectl apply: one line per object on stdout, unless stdout carries -o json|yaml.
      const line = `${type.plural}${type.group ? `.${type.group}` : ''}/${manifest.metadata.name ?? ''} serverside-applied\n`;
      if (flags.output === 'json' || flags.output === 'yaml') io.stderr.write(line);
      else io.stdout.write(line);
    }
    const agents = applied.filter((o) => o.kind === 'Agent').map((o) => ({ namespace: o.metadata.namespace ?? namespace, name: o.metadata.name ?? '' }));
    let ok = true;
    if (flags.wait && agents.length > 0) ok = await waitForAgents(client, agents, flags.timeout, io);
    if (flags.output === 'json' || flags.output === 'yaml') {
      const fresh = await Promise.all(applied.map((o) => client.get<KubeObject>(resourceTypeOf(o), o.metadata.namespace, o.metadata.name ?? '').catch(() => o)));
      io.stdout.write(serialize(fresh.length === 1 ? fresh[0] : asList(fresh), flags.output));
    }
    return ok;
  });
}

async function waitForAgents(client: KubeClient, agents: { namespace: string; name: string }[], timeoutMs: number, io: CliIo): Promise<boolean> {
  const tty = colorEnabled(io.stderr) || (io.stderr as { isTTY?: boolean }).isTTY === true;
  const color = colorEnabled(io.stderr);
  const started = Date.now();
  const last = new Map<string, string>();
  let progress: AgentProgress[] = [];
  for (;;) {
    progress = await Promise.all(agents.map((key) => progressOf(client, key)));
    const ready = progress.filter((p) => p.ready).length;
    const elapsed = Math.round((Date.now() - started) / 1000);
    if (tty) {
      // One line, rewritten in place: counts and the first Agent still waiting.
      const waiting = progress.find((p) => !p.ready);
      const line = `Waiting for Agents: ${paint(`${ready}/${progress.length}`, ready === progress.length ? 'good' : 'warn', color)} Ready (${elapsed}s)${waiting ? ` ${waiting.ref} ${waiting.replicas}: ${waiting.reason}` : ''}`;
      const width = (io.stderr as { columns?: number }).columns ?? 120;
      io.stderr.write(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
    } else {
      for (const p of progress) {
        const text = p.ready ? `${p.ref}: Ready (${p.replicas})` : `${p.ref}: ${p.replicas} ${p.reason}`;
        if (last.get(p.ref) !== text) io.stderr.write(`${text}\n`);
        last.set(p.ref, text);
      }
    }
    if (ready === progress.length) {
      if (tty) io.stderr.write('\n');
      io.stderr.write(`${paint('Ready', 'good', color)}: ${progress.map((p) => p.ref).join(', ')} (${elapsed}s)\n`);
      return true;
    }
    if (Date.now() - started >= timeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  if (tty) io.stderr.write('\n');
  io.stderr.write(`${paint('Timed out', 'bad', color)} after ${Math.round(timeoutMs / 1000)}s waiting for Ready:\n`);
  for (const p of progress.filter((x) => !x.ready)) io.stderr.write(`  ${p.ref} (${p.replicas} replicas ready): ${p.reason}\n`);
  return false;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseTimeout(value: string): number {
  try {
    return /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  } catch {
    throw new InvalidArgumentError('Expected a duration such as 90s or 5m.');
  }
}

export function registerDeployCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('deploy')
      .description('Apply manifests (server-side apply) and wait until every Agent in them is Ready, with progress; on timeout, say why')
      .requiredOption('-f, --file <path...>', 'manifest file(s); - reads stdin')
      .option('--no-wait', 'apply and return without waiting for Ready')
      .addOption(new Option('--timeout <duration>', 'how long to wait for Ready (90s, 5m)').argParser(parseTimeout).default(180_000, '3m')),
    { outputs: ['table', 'json', 'yaml'] },
  )
    .addHelpText('after', '\nExit code 0 when applied (and Ready), 1 on an API error or timeout, 2 on a bad manifest or flag.\n\nExamples:\n  mesh deploy -f samples/agents.yaml --timeout 2m\n  cat agent.yaml | mesh deploy -f - -n team-a -o yaml')
    .action(async (flags: DeployFlags) => {
      if (!(await deploy(flags, io))) throw new SilentExit(1);
    });
}
