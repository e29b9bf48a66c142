import { afterEach, describe, expect, it } from 'vitest';
import { DemandHistory } from './history.js';
import { parsePushBody, startDemandServer, type DemandSample, type DemandSink } from './push-server.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CounterRate, parsePrometheusText, scrapeDemand, scrapeDue, sumMatching } from './scrape.js';

describe('demand history', () => {
  it('snaps samples to the grid, interpolates gaps and round-trips through its compact encoding', () => {
    const history = new DemandHistory(60_000, 1000);
    history.record(Date.UTC(2026, 0, 1, 0, 0, 10), 10);
    history.record(Date.UTC(2026, 0, 1, 0, 1, 0), 20);
    history.record(Date.UTC(2026, 0, 1, 0, 4, 0), 50);
    expect(history.series()).toEqual([10, 20, 30, 40, 50]);
    const encoded = history.encode();
    expect(encoded.start).toBe('2026-01-01T00:00:00.000Z');
    expect(encoded.values.length).toBeLessThan(40); // 5 float32 = 20 bytes, base64
    const restored = DemandHistory.decode(encoded, 60_000, 1000);
    expect(restored.series()).toEqual([10, 20, 30, 40, 50]);
    expect(restored.lastMs).toBe(Date.UTC(2026, 0, 1, 0, 4, 0));
  });

  it('keeps at most maxPoints, dropping the oldest', () => {
    const history = new DemandHistory(1000, 3);
    for (let i = 0; i < 5; i++) history.record(i * 1000, i);
    expect(history.series()).toEqual([2, 3, 4]);
    expect(history.firstMs).toBe(2000);
  });

  it('rejects negative demand and unknown encodings', () => {
    expect(() => new DemandHistory(1000, 3).record(0, -1)).toThrow(/>= 0/);
    expect(() => DemandHistory.decode({ encoding: 'csv' }, 1000, 3)).toThrow(/unknown demand history encoding/);
  });
});

describe('Prometheus scraping', () => {
  const text = [
    '# HELP http_requests_total Requests.',
    '# TYPE http_requests_total counter',
    'http_requests_total{route="/api",code="200"} 120',
    'http_requests_total{route="/api",code="500"} 3',
    'http_requests_total{route="/health",code="200"} 999',
    'http_requests_total{route="/a\\"b"} 1 1700000000000',
    'in_flight 4',
    'garbage line here',
  ].join('\n');

  it('parses samples with labels, escapes and timestamps and sums those matching the selector', () => {
    const samples = parsePrometheusText(text);
    expect(samples).toHaveLength(5);
    expect(samples[3]?.labels['route']).toBe('/a"b');
    expect(sumMatching(samples, 'http_requests_total', { route: '/api' })).toBe(123);
    expect(sumMatching(samples, 'in_flight')).toBe(4);
    expect(sumMatching(samples, 'missing')).toBeUndefined();
  });

  it('turns counters into a rate across pods, treating a decrease as a restart', () => {
    const rate = new CounterRate();
    expect(rate.update(new Map([['a', 100], ['b', 50]]), 0)).toBeUndefined();
    expect(rate.update(new Map([['a', 160], ['b', 80]]), 10_000)).toBe(9);
    expect(rate.update(new Map([['a', 20], ['b', 100]]), 20_000)).toBe(4); // a restarted: 20 new, b +20
  });
});

describe('when a scrape is due', () => {
  it('puts every scrape in a slot of its own, at least half a step apart, whatever the loop interval', () => {
    const stepMs = 10_000;
    for (const loopMs of [500, 3_000, 7_000, 10_000, 30_000]) {
      let last = 0;
      const slots: number[] = [];
      const gaps: number[] = [];
      for (let now = 1_000_000 + 1_234; now < 1_600_000; now += loopMs) {
        if (!scrapeDue(last, now, stepMs)) continue;
        if (last > 0) gaps.push(now - last);
        last = now;
        slots.push(Math.round(now / stepMs));
      }
      expect(new Set(slots).size).toBe(slots.length);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(stepMs / 2);
      // No slower than one scrape per step plus one loop interval.
      expect(Math.max(...gaps)).toBeLessThanOrEqual(Math.max(stepMs, loopMs) + loopMs);
    }
  });

  it('is due at once for a new Agent and never twice in the same slot', () => {
    expect(scrapeDue(0, 1_700_000_000_000, 60_000)).toBe(true);
    expect(scrapeDue(1_700_000_000_000, 1_700_000_029_000, 60_000)).toBe(false);
    expect(scrapeDue(1_700_000_000_000, 1_700_000_060_000, 60_000)).toBe(true);
  });
});

describe('scraping pods over HTTP', () => {
  it('sums matching counters across pods into a rate, leaving out pods that fail', async () => {
    let count = 100;
    const server = createServer((request, response) => {
      if (request.url === '/broken') {
        response.writeHead(500);
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(`# TYPE http_requests_total counter\nhttp_requests_total{route="/api"} ${count}\nhttp_requests_total{route="/health"} 5000\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const targets = [
        { pod: 'a', url: `${base}/metrics` },
        { pod: 'b', url: `${base}/broken` },
      ];
      const failed: string[] = [];
      const rate = new CounterRate();
      const metric = { name: 'http_requests_total', selector: { route: '/api' } };
      expect(await scrapeDemand(targets, metric, rate, 0, (t) => failed.push(t.pod))).toBeUndefined();
      count = 400;
      expect(await scrapeDemand(targets, metric, rate, 60_000, (t) => failed.push(t.pod))).toBe(5);
      expect(failed).toEqual(['b', 'b']);
      expect(await scrapeDemand(targets, { ...metric, type: 'gauge' }, rate, 120_000)).toBe(400);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('demand push API', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  it('validates bodies naming the field', () => {
    expect(() => parsePushBody({})).toThrow(/"samples" array/);
    expect(() => parsePushBody({ samples: [{ time: '2026-01-01T00:00:00Z', value: -1 }] })).toThrow(/samples\[0\]\.value/);
    expect(parsePushBody({ samples: [{ time: 1_700_000_000, value: 2 }] })).toEqual([{ timeMs: 1_700_000_000_000, value: 2 }]);
  });

  it('accepts pushes for known agents over HTTP and answers errors with status codes', async () => {
    const received: DemandSample[] = [];
    let accepting = false;
    const sink: DemandSink = {
      get accepting() {
        return accepting;
      },
      knows: (namespace, name) => namespace === 'ns' && name === 'a',
      push: (_namespace, _name, samples) => received.push(...samples),
    };
    const server = await startDemandServer('127.0.0.1', 0, sink);
    close = () => server.close();
    const post = (path: string, body: string) => fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', body });
    const good = JSON.stringify({ samples: [{ time: '2026-01-01T00:00:00Z', value: 3 }] });
    expect((await post('/v1/demand/ns/a', good)).status).toBe(503);
    accepting = true;
    expect((await post('/v1/demand/ns/a', good)).status).toBe(204);
    expect(received).toEqual([{ timeMs: Date.UTC(2026, 0, 1), value: 3 }]);
    expect((await post('/v1/demand/ns/b', good)).status).toBe(404);
    const bad = await post('/v1/demand/ns/a', '{');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/not valid JSON/);
    expect((await fetch(`http://127.0.0.1:${server.port}/v1/demand/ns/a`)).status).toBe(405);
  });
});
