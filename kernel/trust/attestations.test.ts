import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Agent, Mesh } from '../../crds/types.js';
import { attestationKeysOf, signAttestation, verifyAttestation, type AttestationStatement } from './attestations.js';
import { TRUST_EVIDENCE_ANNOTATION, attestationsComponent, trustInputsFromAgent } from './score.js';

const issuerKeys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const issuer = 'did:mesh:acme:registrar';

const mesh = {
  metadata: { name: 'm', uid: 'u1', generation: 1 },
  spec: { trust: { attestationIssuers: [{ did: issuer, publicKey: issuerKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString() }] } },
} as unknown as Mesh;

const statement: AttestationStatement = { issuer, subject: 'ns/a', positive: true, weight: 2, at: '2026-11-01T00:00:00Z', certification: 'SOC2' };
const signed = (s: AttestationStatement, key = issuerKeys.privateKey) => ({ ...s, signature: signAttestation(s, key) });

const agentWith = (attestations: unknown[]): Agent =>
  ({
    metadata: { name: 'a', namespace: 'ns', annotations: { [TRUST_EVIDENCE_ANNOTATION]: JSON.stringify({ attestations }) } },
    spec: { meshRef: 'm', description: 'd', certifications: ['SOC2'], runtime: { image: 'x' } },
  }) as unknown as Agent;

describe('signed attestations', () => {
  const keys = attestationKeysOf(mesh);

  it('verifies a statement signed by the issuer the Mesh lists, about this agent', () => {
    expect(verifyAttestation(signed(statement), 'ns/a', keys)).toBe(true);
  });

  it('rejects a wrong key, another subject, an altered field, an unknown issuer or no signature', () => {
    expect(verifyAttestation(signed(statement, otherKeys.privateKey), 'ns/a', keys)).toBe(false);
    expect(verifyAttestation(signed(statement), 'ns/b', keys)).toBe(false);
    expect(verifyAttestation({ ...signed(statement), weight: 5 }, 'ns/a', keys)).toBe(false);
    expect(verifyAttestation({ ...signed(statement), positive: false }, 'ns/a', keys)).toBe(false);
    expect(verifyAttestation(signed({ ...statement, issuer: 'did:mesh:evil:x' }), 'ns/a', keys)).toBe(false);
    expect(verifyAttestation({ ...statement }, 'ns/a', keys)).toBe(false);
  });

  it('counts only verified attestations, and a verified one verifies the certification', () => {
    const forged = { ...statement, positive: true, weight: 10, signature: signAttestation(statement, otherKeys.privateKey) };
    const inputs = trustInputsFromAgent(agentWith([signed(statement), forged]), Date.parse('2026-11-02T00:00:00Z'), { attestationKeys: keys });
    expect(inputs.attestations).toHaveLength(1);
    expect(inputs.verifiedCertifications).toEqual(['SOC2']);
    const unchecked = trustInputsFromAgent(agentWith([forged]), Date.parse('2026-11-02T00:00:00Z'), { attestationKeys: keys });
    expect(unchecked.attestations).toEqual([]);
    expect(attestationsComponent(unchecked)).toBe(50);
  });

  it('ignores self-asserted verified certifications when issuer keys are in force', () => {
    const agent = {
      metadata: { name: 'a', namespace: 'ns', annotations: { [TRUST_EVIDENCE_ANNOTATION]: JSON.stringify({ verifiedCertifications: ['SOC2'] }) } },
      spec: { meshRef: 'm', description: 'd', certifications: ['SOC2'], runtime: { image: 'x' } },
    } as unknown as Agent;
    expect(trustInputsFromAgent(agent, 0, { attestationKeys: keys }).verifiedCertifications).toEqual([]);
    expect(trustInputsFromAgent(agent, 0).verifiedCertifications).toEqual(['SOC2']);
  });

  it('skips issuer keys that are not Ed25519 PEM', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const odd = {
      metadata: { name: 'm2', uid: 'u2', generation: 1 },
      spec: { trust: { attestationIssuers: [{ did: issuer, publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() }, { did: 'did:mesh:x:y', publicKey: '-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----' }] } },
    } as unknown as Mesh;
    expect(attestationKeysOf(odd).size).toBe(0);
  });
});
