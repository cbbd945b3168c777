/**
 * The delivery-latency histogram counts in plain arrays (server/counted-histogram.ts) and builds prom-client's
 * exposition when scraped: /metrics must read exactly as a prom-client Histogram fed the same values would.
 */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CountedHistogram } from '../../server/counted-histogram.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const VALUES = [0, 0.0004, 0.001, 0.0011, 0.003, 0.02, 0.02, 0.7, 1, 4.99, 5, 5.01, 120];

function both() {
  const [countedRegistry, referenceRegistry] = [new Registry(), new Registry()];
  const options = { name: 'deckhand_test_latency_seconds', help: 'test', buckets: BUCKETS };
  const counted = new CountedHistogram({ ...options, labelName: 'channel_kind', registers: [countedRegistry] });
  const reference = new Histogram({ ...options, labelNames: ['channel_kind'], registers: [referenceRegistry] });
  return { counted, reference, countedRegistry, referenceRegistry };
}

describe('CountedHistogram', () => {
  it('writes the same /metrics text and JSON as prom-client for the same observations, per label value', async () => {
    const { counted, reference, countedRegistry, referenceRegistry } = both();
    for (const kind of ['job', 'notifications']) {
      const series = counted.seriesOf(kind);
      for (const value of kind === 'job' ? VALUES : VALUES.slice(3, 6)) {
        series.observe(value);
        reference.labels(kind).observe(value);
      }
    }
    expect(await countedRegistry.metrics()).toBe(await referenceRegistry.metrics());
    // The JSON form too (prom-client's carries an empty `exemplar` per value; exemplars are not used here).
    const withoutExemplars = (json: unknown) => JSON.parse(JSON.stringify(json, (key, value) => (key === 'exemplar' ? undefined : value)));
    expect(withoutExemplars(await countedRegistry.getMetricsAsJSON())).toEqual(withoutExemplars(await referenceRegistry.getMetricsAsJSON()));
    expect(await countedRegistry.metrics()).toContain('deckhand_test_latency_seconds_bucket{le="0.001",channel_kind="job"} 3');
  });

  it('a series handed out keeps counting after a reset, from zero', async () => {
    const { counted, countedRegistry } = both();
    const series = counted.seriesOf('job');
    series.observe(0.002);
    countedRegistry.resetMetrics();
    series.observe(0.3);
    const text = await countedRegistry.metrics();
    expect(text).toContain('deckhand_test_latency_seconds_bucket{le="0.0025",channel_kind="job"} 0');
    expect(text).toContain('deckhand_test_latency_seconds_bucket{le="0.5",channel_kind="job"} 1');
    expect(text).toContain('deckhand_test_latency_seconds_count{channel_kind="job"} 1');
  });
});
