// JSON merge patch (RFC 7386): objects merge recursively, null deletes, anything else replaces.
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** Dotted paths of the leaves a merge patch sets or deletes (`spec.trust.weights.uptime`). */
export function patchedPaths(patch: unknown, prefix = ''): string[] {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return prefix ? [prefix] : [];
  const paths: string[] = [];
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) paths.push(...patchedPaths(value, prefix ? `${prefix}.${key}` : key));
  return paths;
}
