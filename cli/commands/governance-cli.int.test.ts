// mesh propose / vote / proposals against the real control plane and an in-process operator.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Mesh, Proposal } from '../../crds/types.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { createTestNamespace, deleteNamespace, testClient } from '../../test/support/kube.js';
import { startTestOperator, type RunningOperator } from '../../test/support/operator.js';
import { eventually } from '../../test/support/wait.js';
import { runCli } from '../program.js';

const voter = new Wallet('0x' + 'e5'.repeat(32));
const stranger = new Wallet('0x' + 'f6'.repeat(32));

function captureIo(): { io: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) } }, out: () => out, err: () => err };
}

describe('mesh propose, vote and proposals', () => {
  let client: KubeClient;
  let namespace: string;
  let operator: RunningOperator;
  const meshName = `cli-gov-${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'mesh-vote-'));
  const kubeconfig = (): string[] => ['--kubeconfig', inject('kubeconfigPath')];

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'cli-gov');
    const mesh: Mesh = { apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: meshName }, spec: { governance: { voters: [{ id: voter.address, weight: 2 }] } } };
    await client.create(MeshOsResources.mesh, mesh);
    operator = await startTestOperator();
    writeFileSync(join(dir, 'voter.key'), `${voter.privateKey}\n`);
    writeFileSync(join(dir, 'stranger.key'), stranger.privateKey);
    writeFileSync(join(dir, 'bad.key'), 'not a key');
  });
  afterAll(async () => {
    await operator?.stop();
    await client.delete(MeshOsResources.mesh, undefined, meshName).catch(() => undefined);
    await deleteNamespace(client, namespace);
  });

  it('creates a proposal, takes a signed vote, refuses bad ones and lists the proposals', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `apiVersion: meshos.dev/v1alpha1\nkind: Proposal\nmetadata: {name: bad, namespace: ${namespace}}\nspec: {meshRef: ${meshName}, title: "", proposer: {did: x, kind: human}, change: {patch: {}}}\n`);
    const refused = captureIo();
    expect(await runCli(['propose', '-f', bad, ...kubeconfig()], refused.io)).toBe(2);
    expect(refused.err()).toMatch(/spec.title/);
    expect(refused.err()).toMatch(/spec.proposer.did/);

    const file = join(dir, 'proposal.yaml');
    writeFileSync(file, `apiVersion: meshos.dev/v1alpha1\nkind: Proposal\nmetadata: {name: more-uptime}\nspec:\n  meshRef: ${meshName}\n  title: More uptime\n  proposer: {did: "did:mesh:test:alice", kind: human}\n  change: {patch: {spec: {trust: {weights: {credentials: 25, history: 25, attestations: 20, compliance: 15, uptime: 15}}}}}\n  votingPeriod: 1h\n`);
    const created = captureIo();
    expect(await runCli(['propose', '-f', file, '-n', namespace, ...kubeconfig()], created.io)).toBe(0);
    expect(created.out()).toContain(`proposal ${namespace}/more-uptime created`);
    const twice = captureIo();
    expect(await runCli(['propose', '-f', file, '-n', namespace, ...kubeconfig()], twice.io)).toBe(1);
    expect(twice.err()).toContain(`mesh: Proposal ${namespace}/more-uptime: already exists`);
    await eventually('voting', async () => ((await client.get<Proposal>(MeshOsResources.proposal, namespace, 'more-uptime')).status?.phase === 'Voting' ? true : undefined), 60_000);

    const voted = captureIo();
    expect(await runCli(['vote', '--proposal', 'more-uptime', '-n', namespace, '--choice', 'for', '--key', join(dir, 'voter.key'), '--reason', 'uptime matters', ...kubeconfig()], voted.io)).toBe(0);
    expect(voted.out()).toMatch(/ballot accepted: for .* \(nonce 0\); weighted approval now [\d.]+% \(needs 70%\)/);
    const again = captureIo();
    expect(await runCli(['vote', '--proposal', 'more-uptime', '-n', namespace, '--choice', 'against', '--key', join(dir, 'voter.key'), ...kubeconfig()], again.io)).toBe(0);
    expect(again.out()).toMatch(/against .*\(nonce 1\)/);

    const outsider = captureIo();
    expect(await runCli(['vote', '--proposal', 'more-uptime', '-n', namespace, '--choice', 'for', '--key', join(dir, 'stranger.key'), ...kubeconfig()], outsider.io)).toBe(1);
    expect(outsider.err()).toMatch(/unregistered-voter/);
    const badKey = captureIo();
    expect(await runCli(['vote', '--proposal', 'more-uptime', '-n', namespace, '--choice', 'for', '--key', join(dir, 'bad.key'), ...kubeconfig()], badKey.io)).toBe(2);
    expect(badKey.err()).toMatch(/--key .*32-byte hex private key/);
    const badChoice = captureIo();
    expect(await runCli(['vote', '--proposal', 'more-uptime', '-n', namespace, '--choice', 'yes', '--key', join(dir, 'voter.key'), ...kubeconfig()], badChoice.io)).toBe(2);

    const missing = captureIo();
    expect(await runCli(['vote', '--proposal', 'no-such-proposal', '-n', namespace, '--choice', 'for', '--key', join(dir, 'voter.key'), ...kubeconfig()], missing.io)).toBe(1);
    expect(missing.err()).toContain(`mesh: Proposal ${namespace}/no-such-proposal: `);

    const table = captureIo();
    expect(await runCli(['proposals', '-n', namespace, ...kubeconfig()], table.io)).toBe(0);
    expect(table.out()).toMatch(/^NAMESPACE\s+NAME\s+MESH\s+PHASE\s+TIME LEFT/);
    expect(table.out()).toMatch(new RegExp(`more-uptime\\s+${meshName}\\s+Voting\\s+(59m|1h0m)`));
    const json = captureIo();
    expect(await runCli(['proposals', '-n', namespace, '-o', 'json', ...kubeconfig()], json.io)).toBe(0);
    expect((JSON.parse(json.out()) as { name: string }[]).map((p) => p.name)).toEqual(['more-uptime']);
  });
});
