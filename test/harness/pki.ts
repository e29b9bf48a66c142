// Certificates and keys for a local control plane, made with the openssl CLI (node:crypto
// cannot issue X.509 certificates), and the admin kubeconfig that uses them.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

const execFileAsync = promisify(execFile);

/** Names the API server's serving certificate answers to. */
export const API_SERVER_SANS = [
  'IP:127.0.0.1',
  'DNS:localhost',
  'IP:10.0.0.1',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
] as const;

export const ADMIN_USER = 'meshos-admin';
export const CONTEXT_NAME = 'meshos-dev';

export interface PkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  apiServerCert: string;
  apiServerKey: string;
  /** Client certificate of `meshos-admin` in group `system:masters`. */
  adminCert: string;
  adminKey: string;
  /** RSA key that signs service-account tokens, and its public half that verifies them. */
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

export function pkiPaths(dir: string): PkiPaths {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiServerCert: join(dir, 'apiserver.crt'),
    apiServerKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPublicKey: join(dir, 'sa.pub'),
  };
}

/** The openssl config: our own, so the system's openssl.cnf defaults do not matter. */
export function opensslConfig(): string {
  return [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    'CN = unused',
    '[ca_ext]',
    'basicConstraints = critical, CA:TRUE',
    'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
    'subjectKeyIdentifier = hash',
    '[server_ext]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${API_SERVER_SANS.join(', ')}`,
    'authorityKeyIdentifier = keyid',
    '[client_ext]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = clientAuth',
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n');
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl is required to create the local control plane certificates: install it (apt-get install openssl)');
    }
    const failed = error as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0] ?? ''} failed: ${failed.stderr ?? failed.message}`);
  }
}

// RSA 2048, as kubeadm uses: kube-apiserver verifies the client certificate chain on every
// request, and Go verifies RSA signatures several times faster than ECDSA P-256 (the
// ECDSA verify was 6% of the API server's CPU under the reconcile benchmark).
const KEY_ARGS = ['-newkey', 'rsa:2048', '-nodes'];
const DAYS = '3650';

async function allExist(paths: string[]): Promise<boolean> {
  try {
    await Promise.all(paths.map((path) => access(path)));
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the CA, the API server's serving certificate, the admin client certificate and the
 * service-account key pair in `dir`, or reuses them when they are all there (a restarted
 * `mesh dev up` keeps its CA, so old kubeconfigs stay valid).
 */
export async function ensurePki(dir: string): Promise<PkiPaths> {
  const paths = pkiPaths(dir);
  const files = [paths.caCert, paths.caKey, paths.apiServerCert, paths.apiServerKey, paths.adminCert, paths.adminKey, paths.serviceAccountKey, paths.serviceAccountPublicKey];
  if (await allExist(files)) return paths;

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, opensslConfig());
  const serial = (): string => `0x${randomBytes(12).toString('hex')}`;

  await openssl(['req', '-x509', '-new', ...KEY_ARGS, '-keyout', paths.caKey, '-out', paths.caCert, '-days', DAYS, '-config', config, '-extensions', 'ca_ext', '-subj', '/CN=meshos-dev-ca']);

  const issue = async (name: string, subject: string, extensions: string, cert: string, key: string): Promise<void> => {
    const csr = join(dir, `${name}.csr`);
    await openssl(['req', '-new', ...KEY_ARGS, '-keyout', key, '-out', csr, '-config', config, '-subj', subject]);
    await openssl(['x509', '-req', '-in', csr, '-CA', paths.caCert, '-CAkey', paths.caKey, '-set_serial', serial(), '-days', DAYS, '-out', cert, '-extfile', config, '-extensions', extensions]);
    await rm(csr, { force: true });
  };
  await issue('apiserver', '/CN=kube-apiserver', 'server_ext', paths.apiServerCert, paths.apiServerKey);
  await issue('admin', `/O=system:masters/CN=${ADMIN_USER}`, 'client_ext', paths.adminCert, paths.adminKey);

  const serviceAccount = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(paths.serviceAccountKey, serviceAccount.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(paths.serviceAccountPublicKey, serviceAccount.publicKey.export({ type: 'spki', format: 'pem' }));

  await Promise.all([paths.caKey, paths.apiServerKey, paths.adminKey, paths.serviceAccountKey].map((key) => chmod(key, 0o600)));
  return paths;
}

export interface KubeconfigInput {
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  contextName?: string;
  userName?: string;
}

/** A kubeconfig with everything embedded, so it can be copied anywhere on this machine. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const context = input.contextName ?? CONTEXT_NAME;
  const user = input.userName ?? ADMIN_USER;
  const base64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server: input.server, 'certificate-authority-data': base64(input.caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': base64(input.clientCertPem), 'client-key-data': base64(input.clientKeyPem) } }],
    contexts: [{ name: context, context: { cluster: context, user } }],
    'current-context': context,
    preferences: {},
  });
}

/** Writes the admin kubeconfig for `server` (mode 0600) and returns its path. */
export async function writeAdminKubeconfig(pki: PkiPaths, server: string, path: string): Promise<string> {
  const [caPem, clientCertPem, clientKeyPem] = await Promise.all([readFile(pki.caCert, 'utf8'), readFile(pki.adminCert, 'utf8'), readFile(pki.adminKey, 'utf8')]);
  await writeFile(path, renderKubeconfig({ server, caPem, clientCertPem, clientKeyPem }), { mode: 0o600 });
  return path;
}
