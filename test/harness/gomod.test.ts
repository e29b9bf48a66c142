import { describe, expect, it } from 'vitest';
import { isLocalReplacement, kubernetesStagingModules, kubernetesWrapperGoMod, parseGoMod, renderGoMod, stagingVersion } from './gomod.js';

// A shortened k8s.io/kubernetes go.mod with the shapes that matter: a require block, a
// replace block of staging directories, a single-line replace, and comments.
const KUBERNETES_GO_MOD = `// This is a generated file. Do not edit directly.

module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
	github.com/spf13/cobra v1.10.0
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0 // indirect
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming
)

replace k8s.io/streaming => ./staging/src/k8s.io/streaming // 1.36 adds this one
replace github.com/example/pinned v1.0.0 => github.com/example/fork v1.0.1
`;

describe('parseGoMod', () => {
  it('reads module, go, requires and both forms of replace', () => {
    const mod = parseGoMod(KUBERNETES_GO_MOD);
    expect(mod.module).toBe('k8s.io/kubernetes');
    expect(mod.go).toBe('1.26.0');
    expect(mod.requires).toEqual([
      { path: 'github.com/spf13/cobra', version: 'v1.10.0' },
      { path: 'k8s.io/api', version: 'v0.0.0' },
      { path: 'k8s.io/client-go', version: 'v0.0.0' },
    ]);
    expect(mod.replaces).toContainEqual({ from: 'k8s.io/streaming', to: './staging/src/k8s.io/streaming' });
    expect(mod.replaces).toContainEqual({ from: 'github.com/example/pinned', fromVersion: 'v1.0.0', to: 'github.com/example/fork', toVersion: 'v1.0.1' });
  });

  it('tells directory replacements from module replacements', () => {
    expect(isLocalReplacement({ from: 'a', to: './x' })).toBe(true);
    expect(isLocalReplacement({ from: 'a', to: '../x' })).toBe(true);
    expect(isLocalReplacement({ from: 'a', to: 'example.com/x', toVersion: 'v1.0.0' })).toBe(false);
  });
});

describe('kubernetes wrapper module', () => {
  it('lists the staging modules from the go.mod, not from a fixed list', () => {
    expect(kubernetesStagingModules(KUBERNETES_GO_MOD)).toEqual(['k8s.io/api', 'k8s.io/client-go', 'k8s.io/cri-streaming', 'k8s.io/streaming']);
  });

  it('maps a release to its staging tag', () => {
    expect(stagingVersion('v1.36.3')).toBe('v0.36.3');
    expect(stagingVersion('v1.37.0-rc.1')).toBe('v0.37.0-rc.1');
    expect(() => stagingVersion('v2.0.0')).toThrow(/Not a Kubernetes v1 release/);
  });

  it('requires k8s.io/kubernetes and replaces every staging module with its published version', () => {
    const wrapper = kubernetesWrapperGoMod(KUBERNETES_GO_MOD, 'v1.36.3');
    const parsed = parseGoMod(wrapper);
    expect(parsed.go).toBe('1.26.0');
    expect(parsed.requires).toEqual([{ path: 'k8s.io/kubernetes', version: 'v1.36.3' }]);
    expect(parsed.replaces).toEqual([
      { from: 'k8s.io/api', to: 'k8s.io/api', toVersion: 'v0.36.3' },
      { from: 'k8s.io/client-go', to: 'k8s.io/client-go', toVersion: 'v0.36.3' },
      { from: 'k8s.io/cri-streaming', to: 'k8s.io/cri-streaming', toVersion: 'v0.36.3' },
      { from: 'k8s.io/streaming', to: 'k8s.io/streaming', toVersion: 'v0.36.3' },
    ]);
    expect(wrapper).toContain('\tk8s.io/api => k8s.io/api v0.36.3\n');
  });

  it('refuses a go.mod without staging replacements', () => {
    expect(() => kubernetesWrapperGoMod('module k8s.io/kubernetes\n', 'v1.36.3')).toThrow(/no staging replacements/);
  });

  it('renders a plain wrapper without replace block', () => {
    const text = renderGoMod({ module: 'meshos.dev/harness/kwok-build', go: '1.26.0', requires: [{ path: 'sigs.k8s.io/kwok', version: 'v0.8.0' }] });
    expect(text).not.toContain('replace');
    expect(parseGoMod(text)).toMatchObject({ module: 'meshos.dev/harness/kwok-build', requires: [{ path: 'sigs.k8s.io/kwok', version: 'v0.8.0' }] });
  });
});
