// The chart against the real API server: helm lint, helm template accepted by
// `kubectl apply --dry-run=server` (default and non-default values), bad values refused at
// install time, helm install with pods running on kwok nodes, and the operator running under the
// chart's ServiceAccount without a single 403.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { Agent } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../operator/kube/resources.js';
import { ensureBinaries } from '../test/harness/binaries.js';
import { projectRoot } from '../test/harness/paths.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { OperatorProcess } from '../test/support/operator-process.js';
import { eventually } from '../test/support/wait.js';

const chartDir = join(projectRoot(), 'charts', 'meshos');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'meshos-helm-cache'), HELM_CONFIG_HOME: join(tmpdir(), 'meshos-helm-config'), HELM_DATA_HOME: join(tmpdir(), 'meshos-helm-data') } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

type Pod = KubeObject & { spec?: { nodeName?: string; securityContext?: Record<string, unknown>; containers: { securityContext?: Record<string, unknown>; args?: string[] }[] }; status?: { phase?: string } };

describe('charts/meshos on the local control plane', () => {
  let helm: string;
  let kubectl: string;
  let kubeconfig: string;
  let client: KubeClient;
  let namespace: string;
  let workDir: string;
  const release = `meshos-${Date.now().toString(36)}`;

  const helmRun = (args: readonly string[]): Promise<Run> => run(helm, [...args, '--kubeconfig', kubeconfig]);
  const dryRunApply = (manifests: string): Promise<Run> => run(kubectl, ['--kubeconfig', kubeconfig, 'apply', '--dry-run=server', '-f', '-'], manifests);

  beforeAll(async () => {
    ({ helm } = await ensureBinaries(['helm']));
    kubectl = inject('kubectlPath');
    kubeconfig = inject('kubeconfigPath');
    client = await testClient();
    namespace = await createTestNamespace(client, 'chart');
    workDir = await mkdtemp(join(tmpdir(), 'meshos-chart-'));
  });

  afterAll(async () => {
    await helmRun(['uninstall', release, '-n', namespace, '--wait', '--timeout', '60s']).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
    await rm(workDir, { recursive: true, force: true });
  });

  it('passes helm lint --strict', async () => {
    const result = await run(helm, ['lint', chartDir, '--strict']);
    expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  it('renders with default values into objects the API server accepts', async () => {
    const rendered = await helmRun(['template', release, chartDir, '-n', namespace, '--include-crds']);
    expect(rendered.code, rendered.stderr).toBe(0);
    const kinds = parseAllDocuments(rendered.stdout).map((d) => (d.toJS() as { kind?: string } | null)?.kind).filter(Boolean);
    expect(kinds).toEqual(expect.arrayContaining(['CustomResourceDefinition', 'Deployment', 'PodDisruptionBudget', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Service', 'NetworkPolicy']));
    const applied = await dryRunApply(rendered.stdout);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('deployment.apps/' + release + ' created (server dry run)');
  });

  it('renders with non-default values into objects the API server accepts', async () => {
    const values = join(workDir, 'values.yaml');
    await writeFile(
      values,
      stringify({
        image: { repository: 'registry.example.com/team/meshos-operator', tag: '1.2.3', pullPolicy: 'Always' },
        imagePullSecrets: [{ name: 'regcred' }],
        operator: { replicas: 3, logLevel: 'debug', extraArgs: ['--healing=false'], priorityClassName: '', topologySpread: false, podLabels: { team: 'platform' }, resources: { requests: { cpu: '200m', memory: '512Mi' }, limits: { memory: '2Gi' } } },
        serviceAccount: { create: true, name: 'mesh-operator-custom' },
        podDisruptionBudget: { minAvailable: '50%' },
        metrics: { port: 9090, service: { type: 'NodePort' } },
        discovery: { enabled: false },
        portal: { port: 8443, service: { type: 'ClusterIP' } },
        memory: { existingClaim: 'meshos-memory' },
        networkPolicy: { metricsNamespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
        tracing: { enabled: true, otlpEndpoint: 'http://otel-collector.observability:4318/v1/traces', sampleRatio: 0.25 },
      }),
    );
    const rendered = await helmRun(['template', `${release}-x`, chartDir, '-n', namespace, '-f', values]);
    expect(rendered.code, rendered.stderr).toBe(0);
    const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as KubeObject & { spec?: Record<string, unknown> }).filter(Boolean);
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { replicas: number; template: { spec: { serviceAccountName: string; containers: { image: string; args: string[] }[] } } } };
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.serviceAccountName).toBe('mesh-operator-custom');
    expect(deployment.spec.template.spec.containers[0]?.image).toBe('registry.example.com/team/meshos-operator:1.2.3');
    expect(deployment.spec.template.spec.containers[0]?.args).toEqual(expect.arrayContaining(['--otlp-endpoint=http://otel-collector.observability:4318/v1/traces', '--trace-sample-ratio=0.25', '--healing=false']));
    expect(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name)).not.toContain(`${release}-x-meshos-discovery`);
    const applied = await dryRunApply(rendered.stdout);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('renders a ServiceMonitor only when asked', async () => {
    const rendered = await helmRun(['template', release, chartDir, '-n', namespace, '--set', 'metrics.serviceMonitor.enabled=true']);
    expect(rendered.code, rendered.stderr).toBe(0);
    expect(rendered.stdout).toContain('kind: ServiceMonitor');
  });

  it('refuses bad values at install time, naming the value and the rule', async () => {
    const cases: [string[], string][] = [
      [['--set', 'operator.replicas=0'], "at '/operator/replicas': minimum: got 0, want 1"],
      [['--set', 'image.pullPolicy=Sometimes'], "at '/image/pullPolicy': value must be one of"],
      [['--set', 'securityContext.readOnlyRootFilesystem=false'], "at '/securityContext/readOnlyRootFilesystem'"],
      [['--set', 'operator.replica=2'], "additional properties 'replica' not allowed"],
      [['--set', 'tracing.enabled=true'], "at '/tracing/otlpEndpoint'"],
      [['--set', 'operator.logLevel=loud'], "at '/operator/logLevel'"],
    ];
    for (const [args, message] of cases) {
      const result = await helmRun(['install', `${release}-bad`, chartDir, '-n', namespace, '--dry-run=server', ...args]);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr).toContain(message);
    }
  });

  it('installs with helm: the operator objects appear and its two pods run on kwok nodes', async () => {
    const installed = await helmRun(['install', release, chartDir, '-n', namespace, '--set', 'image.repository=registry.k8s.io/pause', '--set', 'image.tag=3.10', '--wait', '--timeout', '180s']);
    expect(installed.code, installed.stderr).toBe(0);
    const pods = await eventually(
      'two operator pods Running on kwok nodes',
      async () => {
        const list = await client.list<Pod>(CoreResources.pod, namespace, { labelSelector: `app.kubernetes.io/instance=${release}` });
        return list.items.length === 2 && list.items.every((p) => p.status?.phase === 'Running') ? list.items : undefined;
      },
      120_000,
      1000,
    );
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toMatch(/^kwok-node-/);
      expect(pod.spec?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.spec?.containers[0]?.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(pod.spec?.containers[0]?.args).toEqual(expect.arrayContaining(['--leader-elect=true', `--lease-namespace=${namespace}`]));
    }
    for (const [type, name] of [
      [CoreResources.service, `${release}-metrics`],
      [CoreResources.service, `${release}-discovery`],
      [CoreResources.service, `${release}-portal`],
      [CoreResources.service, `${release}-memory`],
    ] as const) {
      await expect(client.get(type, namespace, name)).resolves.toMatchObject({ metadata: { name } });
    }
    const pdb = await client.request<{ spec: { minAvailable: number } }>('GET', `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/${release}`);
    expect(pdb.spec.minAvailable).toBe(1);
  });

  it("runs the operator as the chart's ServiceAccount without a 403", async () => {
    // A token of the chart's ServiceAccount, and a kubeconfig that uses only it.
    const token = await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${release}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    });
    const admin = parse(await readFile(kubeconfig, 'utf8')) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
    const cluster = admin.clusters[0];
    if (!cluster) throw new Error('admin kubeconfig has no cluster');
    const saKubeconfig = join(workDir, 'sa-kubeconfig');
    await writeFile(
      saKubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [cluster],
        users: [{ name: 'meshos-operator', user: { token: token.status.token } }],
        contexts: [{ name: 'sa', context: { cluster: cluster.name, user: 'meshos-operator' } }],
        'current-context': 'sa',
      }),
    );
    const mesh = `chart-${Date.now().toString(36)}`;
    await client.create(MeshOsResources.mesh, testMesh(mesh));
    await client.create(MeshOsResources.agent, testAgent(namespace, 'rbac-probe', mesh, 2));
    const operator = new OperatorProcess(saKubeconfig, `chart-sa-${process.pid}`, [`--lease-namespace=${namespace}`, '--lease-duration=4000', '--renew-deadline=3000', '--retry-period=500']);
    operator.start();
    try {
      await operator.waitForLog('Started leading', 90_000);
      await eventually(
        'the Agent Ready under the ServiceAccount',
        async () => (await client.get<Agent>(MeshOsResources.agent, namespace, 'rbac-probe')).status?.phase === 'Ready',
        90_000,
        500,
      );
      const forbidden = await operator.metricValue('meshos_api_requests_total', { code: '403' });
      const allowed = await operator.metricValue('meshos_api_requests_total', { code: '200' });
      expect(allowed).toBeGreaterThan(0);
      // A 403 is also what the API server answers for writes into a namespace being deleted
      // (another test's): those are not RBAC denials. RBAC denials name the user.
      const forbiddenLines = operator.logs.map((l) => JSON.stringify(l)).filter((l) => l.includes('forbidden'));
      const terminating = forbiddenLines.filter((l) => l.includes('because it is being terminated')).length;
      expect(forbiddenLines.filter((l) => l.includes('is forbidden: User')), 'RBAC denials').toEqual([]);
      expect(forbidden - terminating, forbiddenLines.join('\n')).toBeLessThanOrEqual(0);
    } finally {
      await operator.stop();
      await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    }
  });
});
