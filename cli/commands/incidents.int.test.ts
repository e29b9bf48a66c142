// mesh incidents against the real control plane: the healing module's incident ConfigMaps, read
// from the operator's namespace (-n) or from every namespace (-A).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addEvent, incidentConfigMap, markMitigated, openIncident } from '../../healing/incident.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { CoreResources } from '../../operator/kube/resources.js';
import { createTestNamespace, deleteNamespace, testClient } from '../../test/support/kube.js';
import { runCli } from '../program.js';

function captureIo(): { io: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) } }, out: () => out, err: () => err };
}

describe('mesh incidents', () => {
  let client: KubeClient;
  let namespace: string;
  const node = `cli-inc-${Date.now().toString(36)}`;
  const kubeconfig = (): string[] => ['--kubeconfig', inject('kubeconfigPath')];

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'cli-inc');
    const detected = Date.parse('2026-01-01T00:00:10Z');
    const incident = openIncident(node, `node ${node} stopped heartbeating`, detected - 5000, detected);
    incident.meshes = ['cli-inc-mesh'];
    incident.affectedAgents = [`${namespace}/a`];
    addEvent(incident, detected + 500, 'tainted', `tainted ${node}`);
    markMitigated(incident, detected + 6000);
    await client.create(CoreResources.configMap, incidentConfigMap(incident, namespace, []));
  });
  afterAll(async () => {
    await deleteNamespace(client, namespace);
  });

  it('lists the records of a namespace or of all, as a table, a timeline or JSON', async () => {
    const json = captureIo();
    expect(await runCli(['incidents', '-n', namespace, '-o', 'json', ...kubeconfig()], json.io), json.err()).toBe(0);
    expect((JSON.parse(json.out()) as { node: string; status: string }[]).map((i) => [i.node, i.status])).toEqual([[node, 'Mitigated']]);

    const table = captureIo();
    expect(await runCli(['incidents', '-n', namespace, '--timeline', ...kubeconfig()], table.io)).toBe(0);
    expect(table.out()).toMatch(/^INCIDENT\s+STATUS\s+NODE\s+DETECTED\s+RECOVERED IN\s+AGENTS\s+PROBABLE CAUSE\n/);
    expect(table.out()).toContain(`tainted ${node}`);

    const all = captureIo();
    expect(await runCli(['incidents', '-A', '--mesh', 'cli-inc-mesh', '-o', 'yaml', ...kubeconfig()], all.io)).toBe(0);
    expect(all.out()).toContain(`node: ${node}`);

    const none = captureIo();
    expect(await runCli(['incidents', '-n', namespace, '--status', 'Open', ...kubeconfig()], none.io)).toBe(0);
    expect(none.err()).toBe('No incidents.\n');

    expect(await runCli(['incidents', '--status', 'Gone', ...kubeconfig()], captureIo().io)).toBe(2);
    expect(await runCli(['incidents', '-o', 'xml', ...kubeconfig()], captureIo().io)).toBe(2);
  });
});
