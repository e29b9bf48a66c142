// The voters' portal end to end in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): open the list and a Proposal, sign with an injected EIP-1193 wallet and
// with a local development key, see refusals explained, see the tally move and, after the
// voting period, the anchor, and verify it.
import { existsSync } from 'node:fs';
import { Wallet, type TypedDataField } from 'ethers';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mesh, Proposal } from '../../crds/types.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { testAgent } from '../../test/support/fixtures.js';
import { createTestNamespace, deleteNamespace, testClient } from '../../test/support/kube.js';
import { startTestOperator, type RunningOperator } from '../../test/support/operator.js';
import { eventually } from '../../test/support/wait.js';
import { DEV_DEPLOYER_KEY, startDevChain, type DevChain } from '../chain/devnode.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const walletVoter = new Wallet('0x' + '71'.repeat(32));
const localKeyVoter = new Wallet('0x' + '72'.repeat(32));
const stranger = new Wallet('0x' + '73'.repeat(32));

describe("voters' portal in Chromium", () => {
  let client: KubeClient;
  let namespace: string;
  let chain: DevChain;
  let operator: RunningOperator;
  let browser: Browser;
  const meshName = `portal-${Date.now().toString(36)}`;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
    client = await testClient();
    namespace = await createTestNamespace(client, 'portal');
    chain = await startDevChain();
    const mesh: Mesh = {
      apiVersion: 'meshos.dev/v1alpha1',
      kind: 'Mesh',
      metadata: { name: meshName },
      spec: { governance: { voters: [{ id: walletVoter.address, displayName: 'Wallet voter' }, { id: localKeyVoter.address, displayName: 'Local key voter' }] } },
    };
    await client.create(MeshOsResources.mesh, mesh);
    await client.create(MeshOsResources.agent, testAgent(namespace, 'agent-a', meshName, 0));
    operator = await startTestOperator({ governance: { chain: { rpcUrl: chain.rpcUrl, chainId: chain.chainId, signerKey: DEV_DEPLOYER_KEY }, portal: { devMode: true } } });
    await eventually('portal serving', () => (operator.manager.portalPort > 0 ? true : undefined), 60_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await operator?.stop();
    await chain?.stop();
    await client.delete(MeshOsResources.mesh, undefined, meshName).catch(() => undefined);
    await deleteNamespace(client, namespace);
  });

  it('lists, signs with a wallet and a local key, explains refusals, moves the tally and verifies the anchor', async () => {
    await client.create(MeshOsResources.proposal, {
      apiVersion: 'meshos.dev/v1alpha1',
      kind: 'Proposal',
      metadata: { name: 'portal-weights', namespace },
      spec: { meshRef: meshName, title: 'Portal: weigh uptime higher', proposer: { did: 'did:mesh:test:alice', kind: 'human' }, change: { patch: { spec: { trust: { weights: { credentials: 25, history: 25, attestations: 20, compliance: 15, uptime: 15 } } } } }, votingPeriod: '40s' },
    } satisfies Proposal);
    await eventually('voting', async () => ((await client.get<Proposal>(MeshOsResources.proposal, namespace, 'portal-weights')).status?.phase === 'Voting' ? true : undefined), 60_000);

    const base = `http://127.0.0.1:${operator.manager.portalPort}`;
    const page = await browser.newPage();
    // An injected EIP-1193 wallet: the page asks it for accounts and eth_signTypedData_v4.
    await page.exposeFunction('__testWalletSign', async (json: string) => {
      const typed = JSON.parse(json) as { domain: Record<string, unknown>; types: Record<string, TypedDataField[]>; message: Record<string, unknown> };
      const { EIP712Domain: _domain, ...types } = typed.types;
      return walletVoter.signTypedData(typed.domain, types, typed.message);
    });
    await page.addInitScript((address: string) => {
      (globalThis as unknown as { ethereum: unknown }).ethereum = {
        isTestWallet: true,
        request: async ({ method, params }: { method: string; params?: unknown[] }): Promise<unknown> => {
          if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [address];
          if (method === 'eth_signTypedData_v4') return (globalThis as unknown as { __testWalletSign(json: string): Promise<string> }).__testWalletSign(String(params?.[1]));
          throw new Error(`unsupported method ${method}`);
        },
      };
    }, walletVoter.address);

    await page.goto(base);
    const row = page.locator(`tr[data-proposal="${namespace}/portal-weights"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.locator('.phase').textContent()).toBe('Voting');
    expect(await row.locator('.time-left').textContent()).toMatch(/\d+m \d+s|closing/);

    await row.locator('a').click();
    await page.locator('#title').waitFor();
    expect(await page.locator('#ai-votes tr').count()).toBe(5);
    expect(await page.locator('#impact-summary').textContent()).toMatch(/agents change trust tier/);
    expect(await page.locator('#change').textContent()).toContain('"uptime": 15');
    expect(await page.locator('#human-ballots').textContent()).toBe('0');

    await page.selectOption('#choice', 'for');
    await page.fill('#reason', 'uptime matters');
    await page.click('#sign-wallet');
    await page.locator('#vote-result.ok').waitFor({ timeout: 30_000 });
    expect(await page.locator('#vote-result').textContent()).toContain(`Ballot accepted: for by ${walletVoter.address.toLowerCase()}`);
    await expect.poll(() => page.locator('#human-ballots').textContent(), { timeout: 15_000 }).toBe('1');

    // An unregistered key: the refusal names the rule.
    await page.fill('#dev-key', stranger.privateKey);
    await page.click('#sign-dev');
    await page.locator('#vote-result.error').waitFor({ timeout: 30_000 });
    expect(await page.locator('#vote-result').textContent()).toMatch(/Ballot rejected \(unregistered-voter\).*spec.governance.voters/);
    await page.fill('#dev-key', 'not-a-key');
    await page.click('#sign-dev');
    await expect.poll(() => page.locator('#vote-result').textContent(), { timeout: 15_000 }).toMatch(/local key: enter a 32-byte hex private key/);

    await page.fill('#dev-key', localKeyVoter.privateKey);
    await page.selectOption('#choice', 'for');
    await page.click('#sign-dev');
    await expect.poll(() => page.locator('#vote-result').textContent(), { timeout: 30_000 }).toContain(`Ballot accepted: for by ${localKeyVoter.address.toLowerCase()}`);
    await expect.poll(() => page.locator('#human-ballots').textContent(), { timeout: 15_000 }).toBe('2');
    expect(await page.locator('#human-for').textContent()).toBe('2');

    // After the period the page shows the anchor; verify it.
    await page.locator('#verify').waitFor({ timeout: 120_000 });
    expect(await page.locator('#anchor-tx').textContent()).toMatch(/^0x[0-9a-f]{64}$/);
    await page.click('#verify');
    await expect.poll(() => page.locator('#verify-result').textContent(), { timeout: 30_000 }).toMatch(/^Verified: 2 published ballot\(s\) rebuild root 0x[0-9a-f]{64}, equal to the root on chain/);
    expect(await page.locator('#phase').textContent()).toMatch(/Approved|Executed/);
    await page.close();
  });
});
