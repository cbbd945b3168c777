/**
 * 1f. JSON collaboration: operations through the JSON collaboration socket (`WS /realtime/collaboration/{id}`), to a
 * Yjs peer. One JSON client (a `ws` socket sending `edit_operation` {insert} with a `[t=…]` marker typed at the end
 * of a slide body, as typing does; a new slide every 500 operations, so a body stays ~10 KB) and one lean Yjs reader on /collab that
 * finds the markers in the updates it receives. Latency to the peer = operation sent → its Yjs update received;
 * ack latency = sent → `edit_ack` (stored in Postgres).
 * - Fixed rate: 100 operations/s, open loop.
 * - Throughput: the client keeps 200 operations in flight (sends one more for each ack); acknowledged operations per
 *   second over the window, and the peer's latency meanwhile.
 */
import WebSocket from 'ws';
import { leanClient, marker, scanTimestamps } from '../lib/doc-clients.js';
import { presentationsWithEditors } from '../lib/deckhand-setup.js';
import { cpuWindow, docEndpoint, generatorFlags, latencyMetrics, metric } from '../lib/measure.js';
import type { GenContext, Metric, ScenarioOutput } from '../lib/protocol.js';
import { openLoop, sleep, until } from '../lib/schedule.js';
import { Latency } from '../lib/stats.js';
import { mintToken } from '../lib/tokens.js';

const OPS_PER_SLIDE = 500;
const IN_FLIGHT = 200;

interface JsonWriter {
  send(op: object): void;
  onAck: ((at: number) => void) | undefined;
  refused: number;
  close(): void;
}

async function jsonWriter(ctx: GenContext, presentationId: string, user: string): Promise<JsonWriter> {
  const url = `${ctx.target.http.replace(/^http/, 'ws')}/api/v1/realtime/collaboration/${presentationId}?token=${mintToken(user, undefined, ctx.target.secret)}`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const writer: JsonWriter = {
    send: (op) => ws.send(JSON.stringify({ type: 'edit_operation', operation: op })),
    onAck: undefined,
    refused: 0,
    close: () => ws.close(),
  };
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{"type":"edit_ack"')) return writer.onAck?.(performance.now());
      const message = JSON.parse(text) as { type: string; error_code?: string };
      if (message.type === 'connected') resolve();
      else if (message.type === 'edit_ack') writer.onAck?.(performance.now());
      else if (message.type === 'error') {
        writer.refused++;
        if (writer.refused <= 3) ctx.log(`refused: ${text.slice(0, 300)}`);
      }
    });
  });
  return writer;
}

export async function run(ctx: GenContext): Promise<ScenarioOutput> {
  if (ctx.target.kind !== 'deckhand') throw new Error('the JSON collaboration socket is Deckhand’s');
  const warmupMs = ctx.quick ? 600 : 2000;
  const measureMs = ctx.quick ? 1000 : 3000;
  const ep = docEndpoint(ctx);
  const metrics: Record<string, Metric> = {};
  const details: unknown[] = [];
  const deck = { id: 'jsonops', owner: 'json-writer', editors: ['yjs-reader'] };
  await presentationsWithEditors(ctx.target, [deck]);
  const writer = await jsonWriter(ctx, deck.id, deck.owner);
  const reader = leanClient({ protocol: ep.protocol, url: ep.url, docName: ep.docName(deck.id), token: ep.token('yjs-reader') });
  await reader.synced;

  let sent = 0;
  let slide = 0;
  let bodyLength = 0;
  /** Sends the next operation: an insert with a marker, or (every OPS_PER_SLIDE) a new slide to type into. */
  const sendNext = (): number => {
    if (sent % OPS_PER_SLIDE === 0) {
      writer.send({ type: 'add_slide', slide_id: `s${++slide}` });
      bodyLength = 0;
    }
    const now = performance.now();
    const text = marker(now);
    writer.send({ type: 'insert', slide_id: `s${slide}`, field: 'body', index: bodyLength, content: { text } });
    bodyLength += text.length;
    sent++;
    return now;
  };
  const inflight: number[] = [];
  const peer = new Latency();
  const ack = new Latency();
  let window = { start: Infinity, end: Infinity };
  let seen = 0;
  let acked = 0;
  const inWindow = (t: number) => t >= window.start && t < window.end;
  reader.onUpdate = (update, at) =>
    scanTimestamps(update, (sentAt) => {
      if (!inWindow(sentAt)) return;
      peer.recordMs(at - sentAt);
      seen++;
    });

  // Fixed rate.
  writer.onAck = (at) => {
    const sentAt = inflight.shift();
    if (sentAt === undefined || !inWindow(sentAt)) return;
    ack.recordMs(at - sentAt);
    acked++;
  };
  let sentInWindow = 0;
  const loop = openLoop(100, () => {
    const adds = sent % OPS_PER_SLIDE === 0 ? 1 : 0;
    if (adds) inflight.push(-Infinity);
    const t = sendNext();
    inflight.push(t);
    if (inWindow(t)) sentInWindow++;
  });
  await sleep(warmupMs);
  const a = await ctx.mark('json-100-start');
  window = { start: performance.now(), end: Infinity };
  await sleep(measureMs);
  window.end = performance.now();
  const b = await ctx.mark('json-100-end');
  loop.stop();
  await until(() => inflight.length === 0, 10_000, 'acks of the fixed-rate phase').catch(() => undefined);
  const cpu = cpuWindow(a, b);
  const flags = generatorFlags(cpu);
  Object.assign(metrics, latencyMetrics('100 ops/s: to the Yjs peer', peer.summary(), sentInWindow ? seen / sentInWindow : 0, flags));
  const acks = latencyMetrics('100 ops/s: edit_ack (stored)', ack.summary(), sentInWindow ? acked / sentInWindow : 0, flags);
  delete acks['100 ops/s: edit_ack (stored) delivered'];
  Object.assign(metrics, acks);
  metrics['100 ops/s: server CPU per operation'] = metric(Math.round(cpu.totalUs / Math.max(1, sentInWindow)), 'µs', 'lower', flags);
  details.push({ phase: 'fixed 100/s', sent: sentInWindow, seen, acked, peer: peer.summary(), ack: ack.summary(), cpu, lag: loop.lag.summary() });
  ctx.log(`100/s: peer p50 ${peer.summary().p50} p99 ${peer.summary().p99} ms; ack p99 ${ack.summary().p99} ms; ${seen}/${sentInWindow} seen`);

  // Throughput: IN_FLIGHT operations outstanding, one more per ack.
  const peerMax = new Latency();
  let ackedMax = 0;
  let seenMax = 0;
  window = { start: Infinity, end: Infinity };
  reader.onUpdate = (update, at) =>
    scanTimestamps(update, (sentAt) => {
      if (!inWindow(sentAt)) return;
      peerMax.recordMs(at - sentAt);
      seenMax++;
    });
  let running = true;
  let outstanding = 0;
  const topUp = () => {
    while (running && outstanding < IN_FLIGHT) {
      if (sent % OPS_PER_SLIDE === 0) outstanding++;
      sendNext();
      outstanding++;
    }
  };
  writer.onAck = (at) => {
    outstanding--;
    if (at >= window.start && at < window.end) ackedMax++;
    topUp();
  };
  topUp();
  await sleep(warmupMs);
  const c = await ctx.mark('json-max-start');
  window = { start: performance.now(), end: Infinity };
  await sleep(measureMs);
  window.end = performance.now();
  const d = await ctx.mark('json-max-end');
  running = false;
  await until(() => outstanding <= 0, 20_000, 'acks of the throughput phase').catch(() => undefined);
  const cpuMax = cpuWindow(c, d);
  const flagsMax = generatorFlags(cpuMax);
  const seconds = (window.end - window.start) / 1000;
  metrics['throughput: acknowledged operations per second'] = metric(Math.round(ackedMax / seconds), '/s', 'higher', flagsMax);
  const peerSummary = peerMax.summary();
  metrics['throughput: to the Yjs peer p50'] = metric(peerSummary.p50, 'ms', 'lower', flagsMax);
  metrics['throughput: to the Yjs peer p99'] = metric(peerSummary.p99, 'ms', 'lower', flagsMax);
  metrics['throughput: server CPU per operation'] = metric(Math.round(cpuMax.totalUs / Math.max(1, ackedMax)), 'µs', 'lower', flagsMax);
  details.push({
    phase: `${IN_FLIGHT} in flight`,
    acked: ackedMax,
    seen: seenMax,
    peer: peerSummary,
    cpu: cpuMax,
    refused: writer.refused,
    targetStats: await ctx.stats(),
  });
  ctx.log(`throughput: ${Math.round(ackedMax / seconds)} ops/s acked, peer p99 ${peerSummary.p99} ms, refused ${writer.refused}`);
  writer.close();
  reader.close();
  await sleep(300);
  return { metrics, details };
}
