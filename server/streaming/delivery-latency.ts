/** Publish → delivery latency, observed once per event on this instance (not once per subscriber). */
import type { BusEvent } from '../bus/types.js';
import type { Metrics } from '../metrics.js';

export function observeDelivery(metrics: Metrics, event: BusEvent): void {
  event.memo('latency-observed', (e) => {
    const id = e.parsedId;
    const dot = e.channel.indexOf('.');
    if (id) metrics.observeDelivery(dot < 0 ? e.channel : e.channel.slice(0, dot), (Date.now() - id.ms) / 1000);
    return true;
  });
}
