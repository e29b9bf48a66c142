// The search thread's side (see search-thread.ts): a full catalogue, with its BM25 index and
// vectors, kept in step by the changes the gRPC thread sends, answering searches in order.
import { parentPort, workerData } from 'node:worker_threads';
import { loadWordVectors } from '../rank/word-vectors.js';
import { Catalogue, rankedPage, type SearchQuery } from './catalogue.js';
import type { SearchThreadOptions, ToSearchThread, FromSearchThread } from './search-thread.js';

const options = workerData as SearchThreadOptions;
const catalogue = new Catalogue({
  wordVectors: loadWordVectors(),
  // The gRPC thread keeps the agents' text; this thread needs it only to index it.
  storeText: false,
  ...(options.semanticWeight === undefined ? {} : { semanticWeight: options.semanticWeight }),
  ...(options.annThreshold === undefined ? {} : { annThreshold: options.annThreshold }),
});

function post(message: FromSearchThread): void {
  parentPort?.postMessage(message);
}

function search(id: number, query: SearchQuery): void {
  try {
    const { hits, more } = rankedPage(catalogue.search(query));
    post({ kind: 'result', id, hits, more });
  } catch (error) {
    post({ kind: 'failed', id, message: error instanceof Error ? error.message : String(error) });
  }
}

parentPort?.on('message', (message: ToSearchThread) => {
  switch (message.kind) {
    case 'changes':
      for (const change of message.changes) {
        if (change.entry) catalogue.upsert(change.entry);
        else catalogue.remove(change.key);
      }
      // A bulk load ends with a marker: build the ANN index now, not on the first search.
      if (message.prepare) {
        catalogue.prepare();
        // And collect the load's garbage now, when the process runs with --expose-gc (the
        // benchmark does), rather than in the first searches.
        (globalThis as { gc?: () => void }).gc?.();
      }
      post({ kind: 'applied', through: message.sequence, size: catalogue.size, usesAnn: catalogue.usesAnn, distinctVectors: catalogue.distinctVectors });
      break;
    case 'search':
      search(message.id, message.query);
      break;
  }
});
post({ kind: 'started' });
