// Keeps a catalogue in step with the Agents an informer sees, and tells watchers what changed.
import type { Agent } from '../../crds/types.js';
import type { Informer } from '../../operator/informer/informer.js';
import type { Catalogue } from './catalogue.js';
import { entryFromAgent, type AgentEntry } from './entry.js';

export type ChangeType = 'ADDED' | 'UPDATED' | 'REMOVED';
export type ChangeListener = (type: ChangeType, entry: AgentEntry, previous: AgentEntry | undefined) => void;

export class LiveCatalogue {
  private readonly listeners = new Set<ChangeListener>();
  private readonly namespaceCounts = new Map<string, number>();

  constructor(readonly catalogue: Catalogue) {}

  /** Namespaces that hold at least one agent (what access is checked against). */
  namespaces(): string[] {
    return [...this.namespaceCounts.keys()].sort();
  }

  upsert(entry: AgentEntry): void {
    // A resync re-delivers unchanged objects: no work, no event (and no unpacking to find out).
    const known = this.catalogue.resourceVersion(entry.key);
    if (known !== undefined && known !== '' && known === entry.resourceVersion) return;
    const previous = this.catalogue.upsert(entry);
    if (!previous) this.namespaceCounts.set(entry.namespace, (this.namespaceCounts.get(entry.namespace) ?? 0) + 1);
    this.emit(previous ? 'UPDATED' : 'ADDED', entry, previous);
  }

  remove(key: string): void {
    const previous = this.catalogue.get(key);
    if (!previous || !this.catalogue.remove(key)) return;
    const count = (this.namespaceCounts.get(previous.namespace) ?? 1) - 1;
    if (count <= 0) this.namespaceCounts.delete(previous.namespace);
    else this.namespaceCounts.set(previous.namespace, count);
    this.emit('REMOVED', previous, previous);
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Indexes what the informer holds now and follows its events from here on. */
  follow(informer: Informer<Agent>): void {
    informer.addHandlers({
      onAdd: (agent) => this.upsert(entryFromAgent(agent)),
      onUpdate: (_, agent) => this.upsert(entryFromAgent(agent)),
      onDelete: (agent) => this.remove(`${agent.metadata.namespace ?? ''}/${agent.metadata.name ?? ''}`),
    });
    for (const agent of informer.store.list()) this.upsert(entryFromAgent(agent));
  }

  private emit(type: ChangeType, entry: AgentEntry, previous: AgentEntry | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(type, entry, previous);
      } catch {
        // A failing watcher must not stop the index or the other watchers.
      }
    }
  }
}
