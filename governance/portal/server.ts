// The voters' portal: a small web application served by the operator on its own port.
// Pages: the list of Proposals, and one Proposal with its change, impact analysis, AI votes,
// live tally against the thresholds, the anchor and a verify action, and a ballot form that
// signs with an injected EIP-1193 wallet or, in development mode, a local key.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BallotRejected, nextNonce } from '../admission.js';
import { typedData } from '../ballot.js';
import { ballotTree, verifyInclusion } from '../merkle.js';
import { anchorStatus, impactOf, tallyStatus, type Governance } from '../service.js';
import { governanceRules } from '../rules.js';
import { voterRegistry } from '../voters.js';
import type { Proposal } from '../../crds/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export interface PortalOptions {
  host?: string;
  port?: number;
  /** Development mode: the page offers signing with a local key. */
  devMode?: boolean;
}

export interface PortalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** HTTP status for each refusal: 409 for conflicts with earlier ballots, 403 for who/when, 400 for the ballot itself. */
const RULE_STATUS: Record<string, number> = {
  replay: 409,
  'stale-nonce': 409,
  'unregistered-voter': 403,
  'outside-voting-period': 403,
};

function send(response: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body) : String(body);
  response.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(text);
}

async function readJson(request: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RangeError(`request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new SyntaxError('request body is not valid JSON');
  }
}

function summary(proposal: Proposal, now: Date): Record<string, unknown> {
  const endsAt = proposal.status?.votingEndsAt;
  const left = endsAt && proposal.status?.phase === 'Voting' ? Math.max(0, Math.round((Date.parse(endsAt) - now.getTime()) / 1000)) : null;
  return {
    namespace: proposal.metadata.namespace,
    name: proposal.metadata.name,
    title: proposal.spec.title,
    mesh: proposal.spec.meshRef,
    critical: proposal.spec.critical ?? false,
    phase: proposal.status?.phase ?? 'Analyzing',
    votingEndsAt: endsAt ?? null,
    secondsLeft: left,
  };
}

export function createPortalHandler(governance: Governance, options: PortalOptions = {}): (request: IncomingMessage, response: ServerResponse) => void {
  const page = readFileSync(join(here, 'index.html'), 'utf8').replace('__DEV_MODE__', options.devMode ? 'true' : 'false');
  const ethersBundle = readFileSync(join(dirname(require.resolve('ethers')), '../dist/ethers.umd.min.js'), 'utf8');
  const proposals = (): Proposal[] =>
    (governance.deps.proposals.list())
      .filter((p) => p.metadata.labels?.['meshos.dev/action-approval'] !== 'true')
      .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));

  async function detail(key: string): Promise<Record<string, unknown> | undefined> {
    const proposal = governance.proposal(key);
    if (!proposal) return undefined;
    const mesh = governance.deps.meshes.get(proposal.spec.meshRef);
    const live = await governance.liveTally(key);
    const tallyState = tallyStatus(proposal);
    const anchor = anchorStatus(proposal);
    const registry = mesh ? [...voterRegistry(mesh).values()] : [];
    return {
      ...summary(proposal, governance.now()),
      summary: proposal.spec.summary ?? '',
      proposer: proposal.spec.proposer,
      change: proposal.spec.change.patch,
      transitionPeriod: proposal.spec.transitionPeriod ?? null,
      votingStartsAt: proposal.status?.votingStartsAt ?? null,
      impact: impactOf(proposal) ?? null,
      aiVotes: tallyState?.aiVotes ?? [],
      contentHash: tallyState?.contentHash ?? null,
      rules: mesh ? governanceRules(mesh) : null,
      voters: registry.map((v) => ({ address: v.address, id: v.id, group: v.group, weight: v.weight, displayName: v.displayName ?? null })),
      tally: tallyState?.result ?? live?.result ?? null,
      final: Boolean(tallyState?.result),
      ballots: (live?.ballots ?? []).map((b) => ({ voter: b.voter, choice: b.choice, nonce: b.nonce, reason: b.reason, acceptedAt: b.acceptedAt })),
      anchor: anchor ?? null,
      domain: anchor ? { chainId: anchor.chainId, verifyingContract: anchor.contract } : null,
      conditions: proposal.status?.conditions ?? [],
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://portal');
    const path = url.pathname;
    if (request.method === 'GET' && (path === '/' || path.startsWith('/proposals/'))) return send(response, 200, page, 'text/html');
    if (request.method === 'GET' && path === '/static/ethers.umd.min.js') return send(response, 200, ethersBundle, 'text/javascript');
    if (request.method === 'GET' && path.startsWith('/api/dids/')) {
      const did = decodeURIComponent(path.slice('/api/dids/'.length));
      if (!/^did:[a-z0-9]+:/.test(did)) return send(response, 400, { error: 'did: must look like did:<method>:<id>' });
      if (!governance.resolveDid) return send(response, 503, { error: 'no governance chain is connected, DIDs cannot be resolved' });
      return send(response, 200, await governance.resolveDid(did));
    }
    if (request.method === 'GET' && path === '/api/proposals') return send(response, 200, { proposals: proposals().map((p) => summary(p, governance.now())) });
    const match = /^\/api\/proposals\/([a-z0-9-]+)\/([a-z0-9.-]+)(\/[a-z-]+)?$/.exec(path);
    if (!match) return send(response, 404, { error: `no such page: ${path}` });
    const key = `${match[1] ?? ''}/${match[2] ?? ''}`;
    const sub = match[3] ?? '';
    const proposal = governance.proposal(key);
    if (!proposal) return send(response, 404, { error: `proposal ${key} not found` });

    if (request.method === 'GET' && sub === '') return send(response, 200, await detail(key));
    if (request.method === 'GET' && sub === '/typed-data') {
      // What a wallet signs for this voter: the next nonce is filled in.
      const voter = url.searchParams.get('voter') ?? '';
      if (!/^0x[0-9a-fA-F]{40}$/.test(voter)) return send(response, 400, { error: 'voter: must be an EVM address (0x and 40 hex digits)' });
      const choice = url.searchParams.get('choice') ?? 'for';
      if (!['for', 'against', 'abstain'].includes(choice)) return send(response, 400, { error: 'choice: must be one of for, against, abstain' });
      const tallyState = tallyStatus(proposal);
      const anchor = anchorStatus(proposal);
      if (!tallyState || !anchor) return send(response, 409, { error: `proposal ${key} is not open for voting yet` });
      const stored = await governance.ballots.list(proposal);
      const message = { proposal: key, contentHash: tallyState.contentHash, voter: voter.toLowerCase(), nonce: nextNonce(stored, voter), choice: choice as 'for', reason: (url.searchParams.get('reason') ?? '').slice(0, 1000) };
      return send(response, 200, { typedData: typedData({ chainId: anchor.chainId, verifyingContract: anchor.contract }, message), ballot: { ...message, chainId: anchor.chainId, verifyingContract: anchor.contract } });
    }
    if (request.method === 'POST' && sub === '/ballots') {
      let body: unknown;
      try {
        body = await readJson(request);
      } catch (error) {
        return send(response, 400, { error: (error as Error).message, rule: 'malformed' });
      }
      try {
        const { ballot, tally } = await governance.submitBallot(key, body);
        return send(response, 201, { accepted: ballot, tally });
      } catch (error) {
        if (error instanceof BallotRejected) return send(response, RULE_STATUS[error.rule] ?? 400, { error: error.message, rule: error.rule });
        throw error;
      }
    }
    if (request.method === 'GET' && sub === '/ballots') {
      const live = await governance.liveTally(key);
      const ballots = live?.ballots ?? [];
      const tree = ballotTree(ballots);
      return send(response, 200, { root: tree.root, discarded: live?.discarded ?? [], leafTypes: ['address', 'uint256', 'uint8', 'bytes32'], ballots: ballots.map((b, i) => ({ ...b, leaf: tree.leaves[i], proof: tree.proof(i) })) });
    }
    if (request.method === 'GET' && sub === '/verify') {
      const anchor = anchorStatus(proposal);
      if (!anchor || anchor.state !== 'Anchored') return send(response, 409, { error: `proposal ${key} is not anchored yet (anchor state ${anchor?.state ?? 'none'})` });
      const live = await governance.liveTally(key);
      const ballots = live?.ballots ?? [];
      const tree = ballotTree(ballots);
      const chain = governance.chain;
      const onChain = chain && chain.chainId === anchor.chainId ? await chain.findAnchor(anchor.contentHash, anchor.contract) : undefined;
      const checks = await Promise.all(
        ballots.map(async (b, i) => ({
          voter: b.voter,
          offChain: verifyInclusion(anchor.ballotsRoot ?? '', b, tree.proof(i)),
          onChain: onChain && tree.leaves[i] ? await chain!.verifyOnChain(anchor.contentHash, tree.leaves[i], tree.proof(i), anchor.contract) : null,
        })),
      );
      const ok = tree.root === anchor.ballotsRoot && (!onChain || onChain.ballotsRoot === anchor.ballotsRoot) && checks.every((c) => c.offChain && c.onChain !== false);
      return send(response, 200, { ok, discarded: live?.discarded ?? [], recordedRoot: anchor.ballotsRoot, rebuiltRoot: tree.root, onChainRoot: onChain?.ballotsRoot ?? null, txHash: anchor.txHash, blockNumber: anchor.blockNumber, chainId: anchor.chainId, ballots: checks });
    }
    return send(response, 405, { error: `${request.method ?? ''} ${path} is not supported` });
  }

  return (request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, { error: (error as Error).message }));
  };
}

export async function startPortal(governance: Governance, options: PortalOptions = {}): Promise<PortalServer> {
  const server: Server = createServer(createPortalHandler(governance, options));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
