import { describe, expect, it } from 'vitest';
import { componentArgs, type ComponentArgsContext } from './control-plane.js';
import { crdManifests, CrdsMissingError } from './crds.js';
import { defaultNodeLabels, kwokNodeManifest, NODE_LABELS } from './nodes.js';
import { pkiPaths } from './pki.js';

const ctx: ComponentArgsContext = {
  dataDir: '/data',
  ports: { etcdClient: 2379, etcdPeer: 2380, apiServer: 6443, controllerManager: 10257, scheduler: 10259 },
  pki: pkiPaths('/data/pki'),
  kubeconfigPath: '/data/kubeconfig',
  kwokStagesPath: '/cache/share/kwok-v0.8.0/stages.yaml',
};

describe('component flags', () => {
  it('keeps etcd on 127.0.0.1 with fsync off and data in dataDir/etcd', () => {
    const args = componentArgs('etcd', ctx);
    expect(args).toContain('--listen-client-urls=http://127.0.0.1:2379');
    expect(args).toContain('--listen-peer-urls=http://127.0.0.1:2380');
    expect(args).toContain('--unsafe-no-fsync=true');
    expect(args).toContain('--data-dir=/data/etcd');
  });

  it('configures kube-apiserver like envtest, bound to 127.0.0.1', () => {
    const args = componentArgs('kube-apiserver', ctx);
    expect(args).toEqual(
      expect.arrayContaining([
        '--etcd-servers=http://127.0.0.1:2379',
        '--bind-address=127.0.0.1',
        '--secure-port=6443',
        '--authorization-mode=Node,RBAC',
        '--service-cluster-ip-range=10.0.0.0/16',
        '--client-ca-file=/data/pki/ca.crt',
        '--service-account-key-file=/data/pki/sa.pub',
        '--service-account-signing-key-file=/data/pki/sa.key',
        '--disable-admission-plugins=ServiceAccount',
        '--watch-cache=true',
      ]),
    );
    expect(args.some((arg) => arg.startsWith('--etcd-compaction-interval'))).toBe(false);
    expect(componentArgs('kube-apiserver', { ...ctx, etcdCompactionInterval: '1m' })).toContain('--etcd-compaction-interval=1m');
  });

  it('runs controller-manager and scheduler without leader election on loopback', () => {
    const kcm = componentArgs('kube-controller-manager', ctx);
    expect(kcm).toEqual(expect.arrayContaining(['--leader-elect=false', '--use-service-account-credentials=false', '--bind-address=127.0.0.1', '--secure-port=10257', '--service-account-private-key-file=/data/pki/sa.key']));
    expect(kcm.find((arg) => arg.startsWith('--controllers='))).toContain('-node-ipam-controller');
    expect(componentArgs('kube-scheduler', ctx)).toEqual(expect.arrayContaining(['--leader-elect=false', '--secure-port=10259', '--kubeconfig=/data/kubeconfig']));
  });

  it('lets kwok manage only annotated nodes, with leases and its stages', () => {
    expect(componentArgs('kwok', ctx)).toEqual([
      '--kubeconfig=/data/kubeconfig',
      '--config=/cache/share/kwok-v0.8.0/stages.yaml',
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--node-lease-duration-seconds=40',
      '--cidr=10.244.0.0/16',
    ]);
  });
});

describe('kwok nodes', () => {
  it('builds a fake node with provider ID, type label and allocatable', () => {
    const node = kwokNodeManifest('kwok-node-0', defaultNodeLabels(0), { cpu: '8', memory: '32Gi', pods: '110' });
    expect(node.metadata?.annotations?.['kwok.x-k8s.io/node']).toBe('fake');
    expect(node.metadata?.labels?.['type']).toBe('kwok');
    expect(node.metadata?.labels?.[NODE_LABELS.region]).toBe('eu-west');
    expect(node.spec?.providerID).toBe('kwok://kwok-node-0');
    expect(node.spec?.taints).toBeUndefined();
    expect(node.status?.allocatable).toEqual({ cpu: '8', memory: '32Gi', pods: '110' });
  });

  it('spreads default nodes over regions, zones, costs, carbon and trust', () => {
    const labels = [0, 1, 2, 3].map(defaultNodeLabels);
    expect(new Set(labels.map((l) => l[NODE_LABELS.region])).size).toBe(2);
    expect(new Set(labels.map((l) => l[NODE_LABELS.zone])).size).toBe(4);
    for (const l of labels) {
      expect(Number(l[NODE_LABELS.cost])).toBeGreaterThan(0);
      expect(Number(l[NODE_LABELS.carbon])).toBeGreaterThan(0);
      expect(Number(l[NODE_LABELS.trust])).toBeLessThanOrEqual(1);
    }
  });
});

describe('CRD manifests', () => {
  it('fails clearly when the directory is missing or empty', async () => {
    await expect(crdManifests('/nonexistent/crds/generated')).rejects.toThrow(CrdsMissingError);
    await expect(crdManifests('/nonexistent/crds/generated')).rejects.toThrow(/npm run gen:crds/);
  });
});
