// kubectl's habits for every `mesh` command that talks to a cluster: --kubeconfig, --context,
// -n/--namespace, -A/--all-namespaces and -o, one way to connect, and errors that name the
// object and the cause.
import { KubeConfig } from '@kubernetes/client-node';
import { Option, type Command } from 'commander';
import { KubeClient } from '../operator/kube/client.js';
import { loadClusterConnection } from '../operator/kube/config.js';
import { ApiError, getErrorMessage } from '../operator/kube/errors.js';
import { UsageError } from './io.js';
import { OUTPUT_FORMATS, outputOption, type OutputFormat } from './output.js';

/** The flags addKubeOptions adds, as commander hands them to an action. */
export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  output: OutputFormat;
}

export interface KubeOptionsConfig {
  /** Adds -n/--namespace and -A/--all-namespaces (default true). */
  namespaced?: boolean;
  /** Adds -A/--all-namespaces with -n (default true); false for commands about one object. */
  allNamespaces?: boolean;
  /** Help of -n when it means something more specific (or defaults otherwise) than the context's namespace. */
  namespaceHelp?: string;
  /** Formats -o accepts (default table, wide, json, yaml); [] leaves -o out. */
  outputs?: readonly OutputFormat[];
}

/**
 * Adds the shared cluster options to a command. Call it once per command, before `.action`;
 * read them back with `kubeContext(flags)`:
 *
 *   addKubeOptions(program.command('incidents').description('...'))
 *     .action(async (flags: KubeFlags & { mesh?: string }) => { const kube = await kubeContext(flags); ... });
 */
export function addKubeOptions(command: Command, config: KubeOptionsConfig = {}): Command {
  command
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)');
  if (config.namespaced ?? true) {
    command.option('-n, --namespace <ns>', config.namespaceHelp ?? "namespace (default: the context's namespace, else default)");
    if (config.allNamespaces ?? true) command.addOption(new Option('-A, --all-namespaces', 'every namespace').conflicts('namespace'));
  }
  const outputs = config.outputs ?? OUTPUT_FORMATS;
  if (outputs.length > 0) command.addOption(outputOption(outputs));
  return command;
}

/** A connected client and where the command should look. Call `close()` when done. */
export interface KubeContext {
  client: KubeClient;
  server: string;
  /** -n, else the context's namespace, else "default". */
  namespace: string;
  /** undefined with -A: every namespace. */
  scope: string | undefined;
  close(): Promise<void>;
}

/** The namespace a kubeconfig context names (kubectl's default for -n). */
export function contextNamespace(kubeconfig: string | undefined, context: string | undefined): string | undefined {
  try {
    const kc = new KubeConfig();
    if (kubeconfig) kc.loadFromFile(kubeconfig);
    else kc.loadFromDefault();
    const name = context ?? kc.getCurrentContext();
    return kc.getContextObject(name)?.namespace ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Connects as kubectl would with these flags. `allByDefault` makes a missing -n mean every
 * namespace (for commands that summarise, like `mesh log`).
 */
export async function kubeContext(flags: Partial<KubeFlags>, options: { allByDefault?: boolean } = {}): Promise<KubeContext> {
  if (flags.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(flags.namespace)) {
    throw new UsageError(`-n/--namespace "${flags.namespace}" is not a valid namespace name (lower-case letters, digits and -)`);
  }
  let connection;
  try {
    connection = await loadClusterConnection(flags.kubeconfig, flags.context);
  } catch (error) {
    throw new Error(`kubeconfig ${flags.kubeconfig ?? process.env['KUBECONFIG'] ?? '~/.kube/config'}: ${describeError(error)}`);
  }
  const client = new KubeClient(connection, { userAgent: 'mesh-cli' });
  const namespace = flags.namespace ?? contextNamespace(flags.kubeconfig, flags.context) ?? 'default';
  const scope = flags.allNamespaces === true || (options.allByDefault === true && flags.namespace === undefined) ? undefined : namespace;
  return { client, server: connection.server, namespace, scope, close: () => client.destroy() };
}

/** Runs `body` with a connected context and always closes it. */
export async function withKube<T>(flags: Partial<KubeFlags>, body: (kube: KubeContext) => Promise<T>, options: { allByDefault?: boolean } = {}): Promise<T> {
  const kube = await kubeContext(flags, options);
  try {
    return await body(kube);
  } finally {
    await kube.close();
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'EAI_AGAIN']);

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

/** One line saying what went wrong, for any error a command can meet. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const reason = error.reason !== '' ? error.reason : `HTTP ${error.statusCode}`;
    const hint = error.statusCode === 403 ? ' (your credentials lack this permission; check the RBAC of the user in --kubeconfig/--context)' : error.statusCode === 401 ? ' (credentials rejected; log in again)' : '';
    return `${error.message} (${reason})${hint}`;
  }
  const code = errorCode(error);
  if (code === 'ENOENT' && error instanceof Error) return `no such file: ${error.message.replace(/^ENOENT: no such file or directory, (open |stat )?/, '')}`;
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return `cannot reach the Kubernetes API server: ${getErrorMessage(error)} (is the cluster running? check --kubeconfig/--context, or start one with: mesh dev up)`;
  }
  return getErrorMessage(error);
}

/** An error about one object: printed as `<Kind> <namespace>/<name>: <cause>`. */
export class ObjectError extends Error {
  override name = 'ObjectError';
  constructor(
    readonly object: string,
    cause: unknown,
  ) {
    super(`${object}: ${describeError(cause)}`, { cause });
  }
}

/** `Kind namespace/name` or `Kind name`, the way errors and progress lines name objects. */
export function objectRef(kind: string | undefined, namespace: string | undefined, name: string | undefined): string {
  return `${kind ?? 'object'} ${namespace ? `${namespace}/` : ''}${name ?? '(unnamed)'}`;
}
