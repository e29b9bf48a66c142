// The MetaTool tool-retrieval data (real tools and labelled queries) as discovery entries.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AgentEntry } from '../index/entry.js';

export interface MetaToolTool {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly detail: string;
}

export interface LabelledQuery {
  readonly query: string;
  /** Id of the one tool that serves the query. */
  readonly tool: string;
}

/**
 * Where the shared data lives: `../shared/data` beside the project root as the data README
 * says, else `/work/shared/data` (the project may run from a worktree at another depth).
 */
export function sharedDataPath(projectRoot: string, relative: string): string {
  const candidates = [resolve(projectRoot, '..', 'shared', 'data', relative), resolve('/work/shared/data', relative)];
  return candidates.find((path) => existsSync(path)) ?? (candidates[0] as string);
}

export function readTools(path: string): MetaToolTool[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${path}: expected a JSON array of tools`);
  return parsed.map((item: unknown, i) => {
    const tool = item as Partial<MetaToolTool>;
    if (typeof tool.id !== 'string' || typeof tool.description !== 'string') throw new Error(`${path}: tool ${i} has no string id or description`);
    return { id: tool.id, name: tool.name ?? tool.id, description: tool.description, detail: tool.detail ?? '' };
  });
}

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function readQueries(path: string): LabelledQuery[] {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  if (header?.[0] !== 'query' || header[1] !== 'tool') throw new Error(`${path}: expected the header query,tool`);
  return rows.filter((row) => row.length === 2 && row[0] !== '').map(([query, tool]) => ({ query: query ?? '', tool: tool ?? '' }));
}

/** A DNS-1123 name for a tool id (the Agent's metadata.name). */
export function agentName(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'tool';
}

/** Each tool becomes a Ready agent whose description is the tool's description plus detail. */
export function toolEntry(tool: MetaToolTool, namespace = 'metatool'): AgentEntry {
  const name = agentName(tool.id);
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    mesh: 'metatool',
    displayName: tool.name,
    description: `${tool.description} ${tool.detail}`.trim(),
    version: '',
    url: '',
    provider: undefined,
    skills: [],
    capabilities: [],
    specializations: [],
    certifications: [],
    region: '',
    maxLatencyMs: undefined,
    trustScore: undefined,
    phase: 'Ready',
    ready: true,
    quarantined: false,
    resourceVersion: '',
  };
}
