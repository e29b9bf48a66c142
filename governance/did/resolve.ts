// DID resolution: did:ethr with the standard ethr-did-resolver against the configured chains,
// and did:mesh, whose document points at its on-chain identities: `alsoKnownAs` lists the
// did:ethr of each configured chain and each verification method carries the CAIP-10 account
// (eip155:<chainId>:<address>) of that chain.
import { Resolver, type DIDDocument, type DIDResolutionResult, type DIDResolver } from 'did-resolver';
import { getResolver } from 'ethr-did-resolver';
import { ethrDidOf } from './registry.js';

export interface ChainForDids {
  chainId: number;
  rpcUrl: string;
  registry: string;
}

/** Where a did:mesh lives on chain: its identity account on each configured chain. */
export type MeshDidLookup = (did: string) => Promise<{ chainId: number; address: string }[] | undefined> | { chainId: number; address: string }[] | undefined;

export function ethrNetworks(chains: readonly ChainForDids[]): { name: string; chainId: number; rpcUrl: string; registry: string }[] {
  return chains.map((c) => ({ name: `0x${c.chainId.toString(16)}`, chainId: c.chainId, rpcUrl: c.rpcUrl, registry: c.registry }));
}

export function meshDidDocument(did: string, accounts: readonly { chainId: number; address: string }[], services: DIDDocument['service'] = []): DIDDocument {
  const methods = accounts.map((a) => ({
    id: `${did}#eip155-${a.chainId}`,
    type: 'EcdsaSecp256k1RecoveryMethod2020',
    controller: did,
    blockchainAccountId: `eip155:${a.chainId}:${a.address.toLowerCase()}`,
  }));
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/secp256k1recovery-2020/v2'],
    id: did,
    alsoKnownAs: accounts.map((a) => ethrDidOf(a.chainId, a.address)),
    verificationMethod: methods,
    authentication: methods.map((m) => m.id),
    assertionMethod: methods.map((m) => m.id),
    ...(services && services.length ? { service: services } : {}),
  };
}

export function createDidResolver(chains: readonly ChainForDids[], lookup: MeshDidLookup): Resolver {
  const ethr = getResolver({ networks: ethrNetworks(chains) });
  const resolver: Resolver = new Resolver({ ...ethr, mesh: (did, parsed, r, options) => meshResolver(did, parsed, r, options) });
  const meshResolver: DIDResolver = async (did): Promise<DIDResolutionResult> => {
    const accounts = await lookup(did);
    if (!accounts || accounts.length === 0) {
      return { didResolutionMetadata: { error: 'notFound', message: `${did} is not registered by this mesh` }, didDocument: null, didDocumentMetadata: {} };
    }
    // The service entries come from the chain: the did:ethr documents that name this did:mesh.
    const services: NonNullable<DIDDocument['service']> = [];
    for (const account of accounts) {
      const ethrDoc = await resolver.resolve(ethrDidOf(account.chainId, account.address));
      for (const service of ethrDoc.didDocument?.service ?? []) services.push(service);
    }
    return { didResolutionMetadata: { contentType: 'application/did+ld+json' }, didDocument: meshDidDocument(did, accounts, services), didDocumentMetadata: {} };
  };
  return resolver;
}
