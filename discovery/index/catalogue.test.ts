import { beforeAll, describe, expect, it } from 'vitest';
import { loadWordVectors, type WordVectors } from '../rank/word-vectors.js';
import { Catalogue } from './catalogue.js';
import type { AgentEntry } from './entry.js';

function entry(name: string, overrides: Partial<AgentEntry> = {}): AgentEntry {
  return {
    key: `team-a/${name}`,
    namespace: 'team-a',
    name,
    mesh: 'mesh-a',
    displayName: name,
    description: 'An agent.',
    version: '1.0.0',
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
    resourceVersion: '1',
    ...overrides,
  };
}

let wordVectors: WordVectors;
beforeAll(() => {
  wordVectors = loadWordVectors();
}, 60_000);

function sample(options: { annThreshold?: number; storeText?: boolean; packEntries?: boolean } = {}): Catalogue {
  const catalogue = new Catalogue({ wordVectors, ...options });
  catalogue.upsert(entry('climate', { description: 'Models climate change and global warming scenarios for policy makers.', trustScore: 80, certifications: ['ISO14001'], maxLatencyMs: 300, region: 'eu-west-1' }));
  catalogue.upsert(entry('legal', { description: 'Analyses legal documents and contracts.', trustScore: 90, certifications: ['ISO-27001'], maxLatencyMs: 800, skills: [{ id: 'c', name: 'contracts', description: '', tags: ['legal', 'contracts'], examples: [], inputModes: [], outputModes: [] }] }));
  catalogue.upsert(entry('weather', { description: 'Forecasts the weather: rain, temperature and wind.', trustScore: 60, certifications: ['ISO14001'], maxLatencyMs: 200 }));
  catalogue.upsert(entry('sick', { description: 'Models climate change too, but is degraded.', ready: false, phase: 'Degraded', trustScore: 99 }));
  return catalogue;
}

const keys = (catalogue: Catalogue, text: string, filters = {}, extra: { includeUnavailable?: boolean } = {}): string[] =>
  catalogue.search({ text, filters, offset: 0, limit: 10, ...extra }).hits.map((hit) => hit.entry.name);

describe('Catalogue', () => {
  it('ranks the matching agent first and explains the match', () => {
    const catalogue = sample();
    const result = catalogue.search({ text: 'climate change modelling', filters: {}, offset: 0, limit: 10 });
    expect(result.hits[0]?.entry.name).toBe('climate');
    expect(result.hits[0]?.matchedTerms).toContain('climate');
    expect(keys(catalogue, 'contract law review')[0]).toBe('legal');
  });

  it('finds by meaning without shared words (semantic ranker)', () => {
    expect(keys(sample(), 'precipitation outlook', {}, {})[0]).toBe('weather');
  });

  it('applies every filter', () => {
    const catalogue = sample();
    expect(keys(catalogue, 'climate', { minTrustScore: 75, certifications: ['iso 14001'], maxLatencyMs: 500 })).toEqual(['climate']);
    expect(keys(catalogue, 'weather', { certifications: ['ISO14001', 'ISO27001'] })).toEqual([]);
    expect(keys(catalogue, 'contracts', { skillTags: ['legal'] })).toEqual(['legal']);
    expect(keys(catalogue, 'climate', { regions: ['eu-west-1'] })).toEqual(['climate']);
    expect(keys(catalogue, 'weather', { meshes: ['other'] })).toEqual([]);
    expect(keys(catalogue, '', { namespaces: ['team-a'], maxLatencyMs: 250 })).toEqual(['weather']);
  });

  it('excludes unavailable agents unless asked', () => {
    const catalogue = sample();
    expect(keys(catalogue, 'climate change')).not.toContain('sick');
    expect(keys(catalogue, 'climate change', {}, { includeUnavailable: true })).toContain('sick');
  });

  it('restricts to the namespaces the caller may see', () => {
    const catalogue = sample();
    catalogue.upsert({ ...entry('hidden', { description: 'Models climate change.' }), key: 'team-b/hidden', namespace: 'team-b' });
    const visible = catalogue.search({ text: 'climate', filters: {}, offset: 0, limit: 10, allowedNamespaces: new Set(['team-a']) });
    expect(visible.hits.map((hit) => hit.entry.key)).not.toContain('team-b/hidden');
    expect(keys(catalogue, 'climate')).toContain('hidden');
  });

  it('forgets removed agents and re-indexes updated ones', () => {
    const catalogue = sample();
    expect(catalogue.remove('team-a/climate')).toBe(true);
    expect(keys(catalogue, 'climate change modelling')).not.toContain('climate');
    catalogue.upsert(entry('weather', { description: 'Translates legal contracts.', trustScore: 60 }));
    expect(keys(catalogue, 'translates legal contracts')[0]).toBe('weather');
    expect(catalogue.search({ text: 'rain temperature forecast', filters: {}, offset: 0, limit: 10 }).hits.every((hit) => hit.lexical === 0)).toBe(true);
    expect(catalogue.size).toBe(3);
  });

  it('pages without overlap', () => {
    const catalogue = sample();
    const first = catalogue.search({ text: 'models agent', filters: {}, offset: 0, limit: 1 });
    const second = catalogue.search({ text: 'models agent', filters: {}, offset: 1, limit: 1 });
    expect(first.more).toBe(true);
    expect(first.hits[0]?.entry.key).not.toBe(second.hits[0]?.entry.key);
  });

  it('gives the same top hits through the ANN index as by exact scan', () => {
    const exact = sample();
    const approximate = sample({ annThreshold: 1 });
    for (let i = 0; i < 200; i++) {
      const filler = entry(`filler-${i}`, { description: `Generic helper number ${i} for spreadsheets, email and calendars.` });
      exact.upsert(filler);
      approximate.upsert(filler);
    }
    expect(approximate.usesAnn).toBe(true);
    expect(exact.usesAnn).toBe(false);
    expect(keys(approximate, 'global warming scenarios')[0]).toBe(keys(exact, 'global warming scenarios')[0]);
    expect(keys(approximate, 'global warming scenarios')[0]).toBe('climate');
  });

  it('ranks and filters the same without storing the text, and updates cleanly', () => {
    const withText = sample();
    const withoutText = sample({ storeText: false });
    const filters = { certifications: ['ISO14001'], skillTags: [] };
    for (const text of ['climate change modelling', 'legal contracts', 'weather rain']) {
      const ranked = (catalogue: Catalogue): [string, number][] => catalogue.search({ text, filters: {}, offset: 0, limit: 10 }).hits.map((hit) => [hit.entry.key, hit.score]);
      expect(ranked(withoutText)).toEqual(ranked(withText));
    }
    expect(withoutText.get('team-a/legal')?.description).toBe('');
    // Tags stay: the skill-tag filter still finds the agent, and replacing it drops the old tags.
    expect(withoutText.filter({ skillTags: ['contracts'] }).map((e) => e.name)).toEqual(['legal']);
    withoutText.upsert(entry('legal', { description: 'Analyses legal documents.', skills: [] }));
    expect(withoutText.filter({ skillTags: ['contracts'] })).toEqual([]);
    expect(withoutText.filter(filters).map((e) => e.name).sort()).toEqual(['climate', 'weather']);
  });

  it('gives back the same entries, filters, pages and rankings when it packs them', () => {
    const plain = sample();
    const packed = sample({ packEntries: true });
    expect(packed.get('team-a/legal')).toEqual(plain.get('team-a/legal'));
    expect(packed.list()).toEqual(plain.list());
    const filters = { certifications: ['iso14001'] };
    expect(packed.filter(filters)).toEqual(plain.filter(filters));
    expect(packed.filterPage({}, { includeUnavailable: true }, 1, 2)).toEqual({ entries: plain.list().slice(1, 3), total: 4 });
    const ranked = (catalogue: Catalogue): [string, number][] => catalogue.search({ text: 'climate', filters: { minTrustScore: 50 }, offset: 0, limit: 10 }).hits.map((hit) => [hit.entry.key, hit.score]);
    expect(ranked(packed)).toEqual(ranked(plain));
    // An update replaces the packed entry and its filter values.
    packed.upsert(entry('legal', { description: 'Now a tax adviser.', certifications: ['ISO14001'], trustScore: 70 }));
    expect(packed.get('team-a/legal')?.description).toBe('Now a tax adviser.');
    expect(packed.filter(filters).map((e) => e.name)).toEqual(['climate', 'legal', 'weather']);
    expect(packed.filter({ skillTags: ['contracts'] })).toEqual([]);
  });
});
