// What the operator's code asks of the Kubernetes API, found by reading its source, and what the
// chart's RBAC grants: so a test can say which permission is missing before a cluster does.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CoreResources, MeshOsResources, type ResourceType } from '../operator/kube/resources.js';

export interface Permission {
  group: string;
  resource: string;
  verb: string;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

const TYPES: Record<string, ResourceType> = { ...CoreResources, ...MeshOsResources };
const CLIENT_VERBS: Record<string, string[]> = { get: ['get'], list: ['list'], watch: ['watch'], create: ['create'], replace: ['update'], patch: ['patch'], delete: ['delete'] };

/** The folders whose code runs inside the operator process. */
export const OPERATOR_SOURCE_DIRS = ['operator', 'kernel', 'scheduler', 'healing', 'discovery', 'governance', 'forecasting'];

function* sourceFiles(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // a folder another branch has not added yet
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) yield path;
  }
}

/**
 * Permissions the code needs: `client.<verb>(XResources.y ...)` calls, informers (list + watch),
 * status writes (`applyStatus`, `subresource: 'status'`), and raw review/binding/eviction paths.
 */
export function requiredPermissions(root: string, dirs: readonly string[] = OPERATOR_SOURCE_DIRS): Permission[] {
  const found = new Map<string, Permission>();
  const add = (group: string, resource: string, verb: string): void => void found.set(`${group}|${resource}|${verb}`, { group, resource, verb });
  for (const dir of dirs) {
    for (const file of sourceFiles(join(root, dir))) {
      if (file.includes(`${join('operator', 'kube')}`) || file.endsWith('informer.ts')) continue; // the generic client itself
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\.(get|list|watch|create|replace|patch|delete)(?:<[^>(]*>)?\(\s*(?:CoreResources|MeshOsResources)\.(\w+)/g)) {
        const type = TYPES[match[2] ?? ''];
        if (type) for (const verb of CLIENT_VERBS[match[1] ?? ''] ?? []) add(type.group, type.plural, verb);
      }
      for (const match of text.matchAll(/new Informer(?:<[^>(]*>)?\(\s*[\w.]+,\s*(?:CoreResources|MeshOsResources)\.(\w+)/g)) {
        const type = TYPES[match[1] ?? ''];
        if (type) for (const verb of ['list', 'watch']) add(type.group, type.plural, verb);
      }
      for (const match of text.matchAll(/applyStatus\(\s*[\w.]+,\s*(?:CoreResources|MeshOsResources)\.(\w+)/g)) {
        const type = TYPES[match[1] ?? ''];
        if (type) add(type.group, `${type.plural}/status`, 'patch');
      }
      if (text.includes('/apis/authentication.k8s.io/v1/tokenreviews')) add('authentication.k8s.io', 'tokenreviews', 'create');
      if (text.includes('/apis/authorization.k8s.io/v1/subjectaccessreviews')) add('authorization.k8s.io', 'subjectaccessreviews', 'create');
      if (/['"`/]binding['"`]/.test(text)) add('', 'pods/binding', 'create');
      if (/['"`/]eviction['"`]/.test(text)) add('', 'pods/eviction', 'create');
    }
  }
  return [...found.values()].sort((a, b) => `${a.group}/${a.resource}/${a.verb}`.localeCompare(`${b.group}/${b.resource}/${b.verb}`));
}

/** The rules of every ClusterRole and Role in rendered (or template) YAML. */
export function rulesOf(yamlText: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const document of parseAllDocuments(yamlText)) {
    const object = document.toJS() as { kind?: string; rules?: PolicyRule[] } | null;
    if (object && (object.kind === 'ClusterRole' || object.kind === 'Role')) rules.push(...(object.rules ?? []));
  }
  return rules;
}

/** Whether the rules grant one permission (no wildcards: the chart never uses them). */
export function grants(rules: readonly PolicyRule[], permission: Permission): boolean {
  return rules.some((r) => (r.apiGroups ?? []).includes(permission.group) && (r.resources ?? []).includes(permission.resource) && (r.verbs ?? []).includes(permission.verb));
}

/** Rules that use a wildcard anywhere (least privilege means none). */
export function wildcardRules(rules: readonly PolicyRule[]): PolicyRule[] {
  return rules.filter((r) => [...(r.apiGroups ?? []), ...(r.resources ?? []), ...(r.verbs ?? [])].includes('*'));
}
