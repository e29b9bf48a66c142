import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensurePki, renderKubeconfig, writeAdminKubeconfig, type PkiPaths } from './pki.js';

const execFileAsync = promisify(execFile);

describe('renderKubeconfig', () => {
  it('embeds CA, client certificate and key, and selects context meshos-dev', () => {
    const text = renderKubeconfig({ server: 'https://127.0.0.1:6443', caPem: 'CA', clientCertPem: 'CERT', clientKeyPem: 'KEY' });
    const config = parse(text) as Record<string, unknown>;
    expect(config).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'meshos-dev', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('CA').toString('base64') } }],
      users: [{ name: 'meshos-admin', user: { 'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64') } }],
      contexts: [{ name: 'meshos-dev', context: { cluster: 'meshos-dev', user: 'meshos-admin' } }],
      'current-context': 'meshos-dev',
      preferences: {},
    });
  });
});

describe('ensurePki', () => {
  let dir: string;
  let pki: PkiPaths;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshos-pki-test-'));
    pki = await ensurePki(join(dir, 'pki'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('issues a serving certificate for 127.0.0.1, localhost, 10.0.0.1 and kubernetes.default.svc', async () => {
    const cert = new X509Certificate(await readFile(pki.apiServerCert));
    const ca = new X509Certificate(await readFile(pki.caCert));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:10.0.0.1');
    expect(cert.subjectAltName).toContain('DNS:kubernetes.default.svc');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(ca.ca).toBe(true);
    const verified = await execFileAsync('openssl', ['verify', '-CAfile', pki.caCert, pki.apiServerCert, pki.adminCert]);
    expect(verified.stdout).toContain(': OK');
  });

  it('issues the admin client certificate in group system:masters', async () => {
    const cert = new X509Certificate(await readFile(pki.adminCert));
    expect(cert.subject).toContain('O=system:masters');
    expect(cert.subject).toContain('CN=meshos-admin');
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
  });

  it('creates an RSA service-account key pair and keeps private keys private', async () => {
    const privateKey = createPrivateKey(await readFile(pki.serviceAccountKey));
    const publicKey = createPublicKey(await readFile(pki.serviceAccountPublicKey));
    expect(privateKey.asymmetricKeyType).toBe('rsa');
    expect(publicKey.asymmetricKeyType).toBe('rsa');
    expect((await stat(pki.caKey)).mode & 0o077).toBe(0);
    expect((await stat(pki.serviceAccountKey)).mode & 0o077).toBe(0);
  });

  it('reuses existing material on the next call', async () => {
    const before = await readFile(pki.caCert, 'utf8');
    await ensurePki(join(dir, 'pki'));
    expect(await readFile(pki.caCert, 'utf8')).toBe(before);
  });

  it('writes an admin kubeconfig whose embedded data matches the files', async () => {
    const path = await writeAdminKubeconfig(pki, 'https://127.0.0.1:1234', join(dir, 'kubeconfig'));
    const config = parse(await readFile(path, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    expect(config.clusters[0]?.cluster.server).toBe('https://127.0.0.1:1234');
    expect(Buffer.from(config.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString()).toBe(await readFile(pki.caCert, 'utf8'));
    expect((await stat(path)).mode & 0o077).toBe(0);
  });
});
