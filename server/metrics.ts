/**
 * Prometheus metrics (`GET /metrics`) and the counters behind `GET /realtime/stats`, on a registry per app instance
 * (never prom-client's global one, so several apps in one process never mix their numbers).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { CountedHistogram, type HistogramSeries } from './counted-histogram.js';

export type Manager = 'generation' | 'notifications' | 'collaboration';
export type Transport = 'ws' | 'sse';
export type DisconnectReason = 'slow_consumer' | 'flood' | 'token_expired' | 'payload_too_large' | 'shutdown' | 'unresponsive';

export interface ManagerStats {
  connections: number;
  messages_sent: number;
  errors: number;
}

/** What one connection reports; label lookups are done once per connection, not per message. */
export interface ConnectionMeter {
  sent(count?: number): void;
  error(code: string): void;
  disconnected(reason: DisconnectReason): void;
  closed(): void;
}

/** The collaboration service's numbers, read when scraped (and by GET /realtime/stats). */
export interface CollabGauges {
  documents(): number;
  connections(): number;
  /** Slide locks held on documents loaded on this instance. */
  locks(): number;
  /** /collab sockets cut because their outbound buffer passed the cap. */
  slowReaders(): number;
  /** /collab frames refused (text, oversized, malformed header): each closes its socket. */
  refusedFrames(): number;
  /** New Yjs client ids left unclaimed because their user was at its cap (their awareness dropped, writes refused). */
  refusedClientIdClaims(): number;
}

/** The collaboration manager's row of GET /realtime/stats (its messages are not counted). */
export interface CollabStats {
  connections: number;
  messages_sent: null;
  errors: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly connections: Gauge<'manager' | 'transport'>;
  private readonly errors: Counter<'manager' | 'code'>;
  private readonly disconnects: Counter<'manager' | 'reason'>;
  private readonly latency: CountedHistogram<'channel_kind'>;
  /** Bus publishes by result as plain numbers, in first-counted order (a labelled inc hashes its labels: once per POST). */
  private readonly publishes: Partial<Record<PublishResult, number>> = {};
  private readonly publishOrder: PublishResult[] = [];
  /** The latency histogram of each channel kind, looked up once (an event is observed once per instance). */
  private readonly latencyByKind = new Map<string, HistogramSeries>();
  /** The series of each manager and transport, looked up once (a labelled child per connection costs ~1 KB). */
  private readonly connectionSeries = new Map<string, ConnectionSeries>();
  private readonly stats: Record<Manager, ManagerStats> = {
    generation: { connections: 0, messages_sent: 0, errors: 0 },
    notifications: { connections: 0, messages_sent: 0, errors: 0 },
    collaboration: { connections: 0, messages_sent: 0, errors: 0 },
  };

  constructor(private readonly collab: CollabGauges) {
    const registers = [this.registry];
    // The event-loop delay histogram samples every 100 ms, not prom-client's default 10 ms: its timer was 100 of the idle
    // server's ~240 wake-ups per second (each a kernel round trip), and a stall still shows as the delay of the next sample.
    collectDefaultMetrics({ register: this.registry, prefix: 'deckhand_', eventLoopMonitoringPrecision: 100 });
    this.connections = new Gauge({
      name: 'deckhand_realtime_connections',
      help: 'Open job-progress and notification connections, by manager and transport',
      labelNames: ['manager', 'transport'],
      registers,
    });
    // Counted per message as plain numbers (a labelled inc costs ~1.5 µs, once per delivery), copied in when scraped.
    const connectionSeries = this.connectionSeries;
    new Counter({
      name: 'deckhand_realtime_messages_sent_total',
      help: 'Messages written to job-progress and notification connections',
      labelNames: ['manager', 'transport'],
      registers,
      collect() {
        this.reset();
        for (const series of connectionSeries.values()) this.inc(series.labels, series.sent);
      },
    });
    this.errors = new Counter({
      name: 'deckhand_realtime_errors_total',
      help: 'Error messages sent to clients, by error code',
      labelNames: ['manager', 'code'],
      registers,
    });
    this.disconnects = new Counter({
      name: 'deckhand_realtime_disconnects_total',
      help: 'Connections closed by the server, by reason',
      labelNames: ['manager', 'reason'],
      registers,
    });
    // Observed once per event: plain counts (./counted-histogram.ts), not prom-client's per-observe label hashing.
    this.latency = new CountedHistogram({
      name: 'deckhand_realtime_delivery_latency_seconds',
      help: 'From publish (bus event id time) to delivery to this instance’s subscribers',
      labelName: 'channel_kind',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    // Counted as plain numbers (once per progress POST), copied in when scraped as messages_sent above.
    const { publishes, publishOrder } = this;
    new Counter({
      name: 'deckhand_bus_publishes_total',
      help: 'Bus publishes by result (ok; stale: a state change found another state in place and was retried; failed)',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        for (const result of publishOrder) this.inc({ result }, publishes[result]!);
      },
    });
    new Gauge({
      name: 'deckhand_collab_documents',
      help: 'Collaboration documents loaded on this instance',
      registers,
      collect() {
        this.set(collab.documents());
      },
    });
    new Gauge({
      name: 'deckhand_collab_connections',
      help: 'Collaboration document connections on this instance',
      registers,
      collect() {
        this.set(collab.connections());
      },
    });
    new Gauge({
      name: 'deckhand_collab_locks',
      help: 'Slide locks held on documents loaded on this instance',
      registers,
      collect() {
        this.set(collab.locks());
      },
    });
    for (const [name, help, read] of [
      ['deckhand_collab_slow_readers_total', '/collab sockets cut as slow readers (outbound buffer over the cap)', () => collab.slowReaders()],
      [
        'deckhand_collab_refused_frames_total',
        '/collab frames refused (text, oversized, malformed): each closed its socket',
        () => collab.refusedFrames(),
      ],
      [
        'deckhand_collab_client_id_claims_refused_total',
        'New Yjs client ids not claimed: their user had claimed COLLAB_CLIENT_ID_CLAIMS_MAX in the document within the window',
        () => collab.refusedClientIdClaims(),
      ],
    ] as const) {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    }
  }

  /** Counts a new connection; the meter counts its messages and errors and must be closed once. */
  connection(manager: Manager, transport: Transport): ConnectionMeter {
    const key = `${manager}/${transport}`;
    let series = this.connectionSeries.get(key);
    if (!series) {
      series = { stats: this.stats[manager], labels: { manager, transport }, sent: 0, open: this.connections.labels(manager, transport) };
      this.connectionSeries.set(key, series);
    }
    return new Meter(this, manager, series);
  }

  /** The manager's error and disconnect counters (ConnectionMeter, below). */
  countError(manager: Manager, code: string): void {
    this.errors.labels(manager, code).inc();
  }

  countDisconnect(manager: Manager, reason: DisconnectReason): void {
    this.disconnects.labels(manager, reason).inc();
  }

  /** An error outside any connection (e.g. a refused upgrade before the connection was counted). */
  error(manager: Manager, code: string): void {
    this.errors.labels(manager, code).inc();
    this.stats[manager].errors++;
  }

  observeDelivery(channelKind: string, seconds: number): void {
    let histogram = this.latencyByKind.get(channelKind);
    if (!histogram) {
      histogram = this.latency.seriesOf(channelKind);
      this.latencyByKind.set(channelKind, histogram);
    }
    histogram.observe(Math.max(0, seconds));
  }

  busPublish(result: PublishResult): void {
    const count = this.publishes[result];
    if (count === undefined) {
      this.publishes[result] = 1;
      this.publishOrder.push(result);
    } else this.publishes[result] = count + 1;
  }

  managerStats(manager: Manager): ManagerStats {
    return { ...this.stats[manager] };
  }

  /** Yjs connections (/collab, direct connections included) and JSON collaboration sockets together. */
  collabStats(): CollabStats {
    const json = this.stats.collaboration;
    return {
      connections: this.collab.connections() + json.connections,
      messages_sent: null,
      errors: this.collab.slowReaders() + this.collab.refusedFrames() + json.errors,
    };
  }

  collabDocuments(): number {
    return this.collab.documents();
  }

  collabLocks(): number {
    return this.collab.locks();
  }
}

type PublishResult = 'ok' | 'stale' | 'failed';

interface ConnectionSeries {
  stats: ManagerStats;
  labels: { manager: Manager; transport: Transport };
  /** Messages sent (deckhand_realtime_messages_sent_total reads it when scraped). */
  sent: number;
  open: { inc(): void; dec(): void };
}

/** One connection's meter: a small object on a shared prototype (there is one per idle subscriber). */
class Meter implements ConnectionMeter {
  private open = true;

  constructor(
    private readonly metrics: Metrics,
    private readonly manager: Manager,
    private readonly series: ConnectionSeries,
  ) {
    series.open.inc();
    series.stats.connections++;
  }

  sent(count = 1): void {
    this.series.sent += count;
    this.series.stats.messages_sent += count;
  }

  error(code: string): void {
    this.metrics.countError(this.manager, code);
    this.series.stats.errors++;
  }

  disconnected(reason: DisconnectReason): void {
    this.metrics.countDisconnect(this.manager, reason);
  }

  closed(): void {
    if (!this.open) return;
    this.open = false;
    this.series.open.dec();
    this.series.stats.connections--;
  }
}
