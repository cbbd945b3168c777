/** The scenarios, in run order: which targets each runs against and which ratios its table shows. */
export interface ScenarioDef {
  id: string;
  title: string;
  /** What the rows mean, printed under the table. */
  description: string;
  targets: string[];
  /** `--quick` (a smoke test under 60 s) runs Deckhand against its main peer only. */
  quickTargets: string[];
  /** Start every target afresh for this scenario (peers that appear only here are fresh anyway). */
  fresh?: boolean;
  /**
   * All targets up at once (fresh), measured by one generator in alternating windows (the module exports
   * `runPaired`): each round pairs the targets on the same stretch of the machine's speed.
   */
  paired?: boolean;
  /** [numerator, denominator] column pairs. */
  ratios: [string, string][];
}

/** Run order: memory first, while the doc targets' processes are fresh (they then serve 1a, 1b, 1e). */
export const SCENARIOS: ScenarioDef[] = [
  {
    id: 'doc-memory',
    title: '1c. Memory — idle collaboration connections and loaded documents',
    description:
      'Target process after full GCs (--expose-gc). 1,000 idle real providers over 100 documents; then 50 documents of ~200 KB (encoded) each with its one client (the per-connection figure is subtracted).',
    targets: ['deckhand', 'hocuspocus', 'y-websocket'],
    quickTargets: ['deckhand', 'hocuspocus'],
    ratios: [
      ['deckhand', 'hocuspocus'],
      ['deckhand', 'y-websocket'],
    ],
  },
  {
    id: 'doc-fanout',
    title: '1a. Document sync — fan-out latency (one writer per document at 20 updates/s)',
    description:
      "Writers are real providers (@hocuspocus/provider; y-websocket's WebsocketProvider) typing a timestamp into their slide; readers are lean protocol clients (they do not apply the update, so the generator's own work for 99 readers in a row does not swamp the latency). Latency = typed → the update frame received. Open loop, 2 s warm-up discarded.",
    targets: ['deckhand', 'hocuspocus', 'y-websocket'],
    quickTargets: ['deckhand', 'hocuspocus'],
    ratios: [
      ['deckhand', 'hocuspocus'],
      ['deckhand', 'y-websocket'],
    ],
  },
  {
    id: 'doc-rate',
    title: '1b. Document sync — max sustainable update rate (10 writers + 40 readers, one document)',
    description:
      'Lean protocol clients. Steps 200→3,200 updates/s until p99 > 100 ms or delivery < 99.9 %. Server CPU = the server process + its Postgres + Redis, per applied update and per update delivered to a reader.',
    targets: ['deckhand', 'hocuspocus', 'y-websocket'],
    quickTargets: ['deckhand', 'hocuspocus'],
    ratios: [
      ['deckhand', 'hocuspocus'],
      ['deckhand', 'y-websocket'],
    ],
  },
  {
    id: 'doc-durability',
    title: '1e. Durability cost — edit-to-ack latency (Deckhand: appended to Postgres before the ack; Hocuspocus: in memory)',
    description:
      'Lean Hocuspocus-protocol writers; latency = update sent → SyncStatus received. 1 writer at 50 updates/s; 100 writers over 10 documents at 10 updates/s each. Postgres runs with fsync=on, synchronous_commit=on.',
    targets: ['deckhand', 'hocuspocus'],
    quickTargets: ['deckhand', 'hocuspocus'],
    ratios: [['deckhand', 'hocuspocus']],
  },
  {
    id: 'json-ops',
    title: '1f. JSON collaboration — operations per second through the JSON socket, and their latency to a Yjs peer',
    description:
      'One JSON client on `WS /realtime/collaboration/{id}` sends `edit_operation` inserts carrying a timestamp, typed at the end of a slide body (a new slide every 500); one lean Yjs reader on /collab finds the timestamps in the updates it receives. "To the Yjs peer" = operation sent → its update received by the reader; "edit_ack" = sent → acknowledged (appended to Postgres). Fixed rate: 200 operations/s, open loop. Throughput: 200 operations kept in flight (one more sent per ack). Deckhand only: no peer has a JSON socket bridged onto Yjs.',
    targets: ['deckhand'],
    quickTargets: ['deckhand'],
    ratios: [],
  },
  {
    id: 'cold-load',
    fresh: true,
    title: "1d. Cold load of a 10 MB document from Postgres to the first client's sync",
    description:
      'Deterministic 10 MB fixture (bench/.cache). Deckhand: snapshot row; Hocuspocus: extension-database `fetch`; y-websocket: y-leveldb-style update rows. fetch / apply / encode are timed inside each server; "rest" = connect, auth, the transfer of the SyncStep2 (the client does not parse it). "Yjs alone" is Y.applyUpdate (+ encodeStateAsUpdate) of the same bytes in a process on the same core, no server: the target compares Deckhand’s time-to-synced with its parse. Median of the runs.',
    targets: ['deckhand', 'hocuspocus-db', 'y-websocket-pg', 'yjs-parse'],
    quickTargets: ['deckhand', 'yjs-parse'],
    ratios: [
      ['deckhand', 'hocuspocus-db'],
      ['deckhand', 'y-websocket-pg'],
      ['deckhand', 'yjs-parse'],
    ],
  },
  {
    id: 'events',
    title: '2. Event fan-out — job progress to 1,000 subscribers (HTTP → Redis → subscribers)',
    description:
      '1,000 subscribers, 100 on each of 10 jobs (rooms, channels); 100 publishes/s round-robin over the jobs = 10,000 deliveries/s (all 1,000 on one job would be 100,000/s, more than this shared core carries for any target). Publishes are HTTP POSTs: Deckhand `POST /jobs/{id}/progress` (service token, schema validation, HTTP rate limit counted locally and sent to Redis with the requests, the job state compare-and-set and its event on the Redis bus: one Lua call per event-loop turn, XADD + PUBLISH; Postgres written coalesced every 250 ms); the peers `POST /publish/{room}` → Redis PUBLISH (Socket.IO without the adapter: an in-process emit). "Publish alone" is the same rate to jobs with one subscriber each; "marginal" = (CPU at 100 subscribers − CPU at 1) / extra deliveries, the cost of the fan-out itself. Memory: 2,000 idle subscribers. Ingest (accepted POSTs/s) is table 2c, measured paired.',
    targets: ['deckhand-ws', 'deckhand-sse', 'socketio', 'socketio-redis', 'raw-ws', 'raw-sse'],
    quickTargets: ['deckhand-ws', 'socketio-redis', 'raw-ws'],
    ratios: [
      ['deckhand-ws', 'raw-ws'],
      ['deckhand-sse', 'raw-sse'],
      ['deckhand-ws', 'socketio'],
      ['deckhand-ws', 'socketio-redis'],
    ],
  },
  {
    id: 'chat',
    title: '2b. Chat fan-out — messages to 100 members of one presentation (HTTP post → Postgres → Redis → members)',
    description:
      '100 members (viewers) follow `chat.{id}` on the notifications WebSocket (`subscribe_channel`) or SSE stream (`?channels=`); 10 commenters post over REST (`POST /presentations/{id}/chat`: access check, rate limit in Redis, INSERT in Postgres, then the Redis bus), 20 messages/s round-robin = 2,000 deliveries/s, open loop, 2 s warm-up discarded; latency = post sent → message received. Ramp: 50 → 100 → 200 messages/s until p99 > 250 ms or any loss. Deckhand only (the peers have no chat); its notification fan-out is table 2.',
    targets: ['deckhand-ws', 'deckhand-sse'],
    quickTargets: ['deckhand-ws'],
    ratios: [],
  },
  {
    id: 'ingest',
    paired: true,
    title: '2c. Progress ingest — accepted POSTs/s, paired (all targets up at once, alternating windows)',
    description:
      "Each target has 2,000 idle subscribers on a job of their own and one subscriber on each of 16 ingest jobs. A window is autocannon, 16 connections, POSTing progress round-robin over the 16 jobs (Deckhand `POST /jobs/{id}/progress`: service token, schema validation, HTTP rate limit, the job state compare-and-set and its event on the Redis bus; the peers `POST /publish/{room}` → Redis PUBLISH or an in-process send). All targets are up together; after a 3 s warm-up each (Deckhand's route reaches its steady speed after ~2 s of load), seven rounds of one 2 s window per target, the order reversed every round, so every round meets the same stretch of this VM's speed; during a target's window the others are stopped (SIGSTOP), so their idle work is not charged to it. The median window per target is shown; the goal is the median of the per-round ratios. Every accepted POST must reach its subscriber.",
    // deckhand-ws-b only with BENCH_B_ROOT (another checkout: an A/B of two versions, `--targets=deckhand-ws,deckhand-ws-b`).
    targets: ['deckhand-ws', 'socketio-redis', 'raw-ws', 'deckhand-ws-b'],
    quickTargets: ['deckhand-ws', 'socketio-redis', 'deckhand-ws-b'],
    ratios: [
      ['deckhand-ws', 'socketio-redis'],
      ['deckhand-ws', 'raw-ws'],
      ['deckhand-ws-b', 'deckhand-ws'],
    ],
  },
];
