// npm run bench:discovery [-- --catalog tools.json --queries queries.csv --quality-only --sizes 1000,10000,100000]
// Quality: every MetaTool tool becomes an Agent (description = description + detail) and
// each labelled query is ranked by the project's ranker and by plain BM25, side by side.
// The project's ranker and its semantic weight are chosen on the even-numbered queries
// (the tuning half) and reported on the odd-numbered ones (held out); queries never enter
// the agents' text. Speed: a discovery server in a child process, built as the operator
// builds it (ranking on a search thread), serves catalogues of 1,000 / 10,000 / 100,000
// agents composed from the MetaTool tools (bench/discovery/catalogue.ts) over real gRPC to 8
// concurrent clients (in a second child process, so the benchmark's own heap and collections
// stay out of their way). Fidelity: at the largest size, how much of an exhaustive search's
// top 10 the served (approximate) search returns.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { searchableText } from '../discovery/index/entry.js';
import { Catalogue, DEFAULT_SEMANTIC_WEIGHT, type Ranker } from '../discovery/index/catalogue.js';
import { Bm25Index } from '../discovery/rank/bm25.js';
import { words } from '../discovery/rank/tokenize.js';
import { loadWordVectors, type WordVectors } from '../discovery/rank/word-vectors.js';
import { readQueries, readTools, sharedDataPath, toolEntry, type LabelledQuery, type MetaToolTool } from '../discovery/quality/metatool.js';
import { qualityMetrics, type QualityMetrics } from '../discovery/quality/metrics.js';
import { measureFidelity } from './discovery/fidelity.js';
import { runSpeedBenchmark, type SpeedResult } from './discovery/speed.js';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    catalog: { type: 'string', default: sharedDataPath(root, 'metatool/tools.json') },
    queries: { type: 'string', default: sharedDataPath(root, 'metatool/queries-dev.csv') },
    'quality-only': { type: 'boolean', default: false },
    sizes: { type: 'string', default: '1000,10000,100000' },
    'duration-seconds': { type: 'string', default: '20' },
  },
});

/** Rank (0-based) of each query's tool, or -1 when it is not in the top 100. */
function ranksOf(queries: readonly LabelledQuery[], search: (text: string) => string[]): number[] {
  return queries.map(({ query, tool }) => search(query).indexOf(tool));
}

function plainBm25(tools: readonly MetaToolTool[]): (text: string) => string[] {
  const index = new Bm25Index();
  // Plain: lower-cased words, no stop words removed, no stemming.
  tools.forEach((tool, slot) => index.set(slot, words(searchableText(toolEntry(tool)))));
  return (text) => index.search(words(text), 100).map((hit) => tools[hit.slot]?.id ?? '');
}

function projectSearch(tools: readonly MetaToolTool[], wordVectors: WordVectors, ranker: Ranker, semanticWeight: number): (text: string) => string[] {
  const catalogue = new Catalogue({ wordVectors, semanticWeight });
  const idByKey = new Map<string, string>();
  for (const tool of tools) {
    const entry = toolEntry(tool);
    catalogue.upsert(entry);
    idByKey.set(entry.key, tool.id);
  }
  return (text) => catalogue.search({ text, filters: {}, offset: 0, limit: 100, ranker }).hits.map((hit) => idByKey.get(hit.entry.key) ?? '');
}

async function main(): Promise<void> {
  const tools = readTools(values.catalog);
  const queries = readQueries(values.queries);
  const known = new Set(tools.map((tool) => tool.id));
  const labelled = queries.filter((query) => known.has(query.tool));
  const tuning = labelled.filter((_, i) => i % 2 === 0);
  const heldOut = labelled.filter((_, i) => i % 2 === 1);

  const loadStarted = performance.now();
  const wordVectors = loadWordVectors();
  const embeddingLoadSeconds = (performance.now() - loadStarted) / 1000;

  // Choose the ranker on the tuning half only.
  const choices: { ranker: Ranker; semanticWeight: number; tuningNdcg: number }[] = [];
  for (const [ranker, weights] of [['lexical', [0]], ['semantic', [1]], ['hybrid', [0.5, 1, 2, 3, 5]]] as const) {
    for (const semanticWeight of weights) {
      const metrics = qualityMetrics(ranksOf(tuning, projectSearch(tools, wordVectors, ranker, semanticWeight)));
      choices.push({ ranker, semanticWeight, tuningNdcg: metrics['ndcg@10'] });
    }
  }
  const chosen = choices.reduce((best, choice) => (choice.tuningNdcg > best.tuningNdcg ? choice : best));

  const project = qualityMetrics(ranksOf(heldOut, projectSearch(tools, wordVectors, chosen.ranker, chosen.semanticWeight)));
  const bm25 = qualityMetrics(ranksOf(heldOut, plainBm25(tools)));
  const ratio = Math.round((project['ndcg@10'] / Math.max(bm25['ndcg@10'], 1e-9)) * 1000) / 1000;
  const defaultMatches = chosen.ranker === 'hybrid' && chosen.semanticWeight === DEFAULT_SEMANTIC_WEIGHT;

  const result: {
    quality: { project: QualityMetrics; bm25: QualityMetrics } & Record<string, unknown>;
    latency?: SpeedResult['latency'];
    indexBuildSeconds?: SpeedResult['indexBuildSeconds'];
    serverRssMb?: SpeedResult['serverRssMb'];
    [key: string]: unknown;
  } = {
    quality: {
      project,
      bm25,
      ndcgRatio: ratio,
      evaluatedOn: `held-out half of ${values.queries} (${heldOut.length} queries, odd rows); ranker chosen on the other ${tuning.length}`,
      chosenRanker: chosen,
      defaultRankerMatchesChoice: defaultMatches,
      candidates: choices,
      tools: tools.length,
      embeddingLoadSeconds: Math.round(embeddingLoadSeconds * 1000) / 1000,
    },
  };
  console.log(`quality (held-out ${heldOut.length} queries): project nDCG@10 ${project['ndcg@10']} vs BM25 ${bm25['ndcg@10']} (x${ratio}); chosen ${chosen.ranker} w=${chosen.semanticWeight}`);
  if (!defaultMatches) console.log(`warning: the default ranker (hybrid, w=${DEFAULT_SEMANTIC_WEIGHT}) differs from the measured choice`);

  if (!values['quality-only']) {
    const sizes = values.sizes.split(',').map(Number);
    const speed = await runSpeedBenchmark({ catalogPath: values.catalog, queries: heldOut.slice(0, 2000), sizes, durationSeconds: Number(values['duration-seconds']) });
    Object.assign(result, speed);
    const largest = Math.max(...sizes);
    const fidelity = measureFidelity(tools, heldOut.slice(0, 500), wordVectors, largest);
    result['fidelity'] = fidelity;
    console.log(`fidelity at ${largest} agents: served top 10 hold ${fidelity.hybridTop10Agreement} of the exhaustive hybrid top 10 (semantic ranker alone ${fidelity.semanticTop10Agreement})`);
  }
  mkdirSync(new URL('results', import.meta.url), { recursive: true });
  writeFileSync(new URL('results/discovery.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log('Wrote bench/results/discovery.json');
}

await main();
