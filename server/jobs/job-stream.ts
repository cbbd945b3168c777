/**
 * The start of a job stream, the same over WebSocket and SSE: once the follower is subscribed (its live events held),
 * - no resume point: the job's current state (`job_progress`) tagged with the channel's head id;
 * - a resume point still covered by the bus history: exactly the events after it (no gap, no repeat);
 * - otherwise (too old, another epoch, garbage): a `reset` with the current state, tagged with the head;
 * then the follower is released after what was sent. The same snapshot serves the follower's resync after a bus gap.
 *
 * The snapshot's head and state are read in one step (the bus state and history change together), so the pair is
 * consistent: a later event has an id after the head (so it is forwarded) and a seq above the snapshot's version;
 * a client that resumes from the head gets exactly the events after the snapshot.
 */
import { jobChannel } from '../../shared/channels.js';
import type { JobProgressMessage, JobResetMessage } from '../../shared/messages.js';
import type { BusEvent } from '../bus/types.js';
import type { Job } from '../store/jobs.js';
import type { ChannelFollower, ReleaseOptions } from '../streaming/follower.js';
import type { JobsContext } from './context.js';
import { progressMessage, resetMessage } from './job-messages.js';

export interface JobStreamWriter {
  /** A state of this connection's own (the snapshot or a reset) and the event id it stands at. */
  state(message: JobProgressMessage | JobResetMessage, eventId: string): void;
  /** A replayed bus event; resolves when the transport can take more. */
  event(event: BusEvent): Promise<void> | void;
}

/**
 * Writes the current state (the bus's, read with its head in one step; falling back to `known` if the job vanished)
 * tagged with the head; resolves with where to resume (nothing when there is no job to show).
 */
export async function writeJobSnapshot(
  ctx: JobsContext,
  jobId: string,
  kind: 'job_progress' | 'reset',
  writer: JobStreamWriter,
  known?: Job,
): Promise<ReleaseOptions> {
  const { head, job } = await ctx.jobs.snapshot(jobId);
  const current = job ?? known;
  if (!current) return {};
  writer.state(kind === 'reset' ? resetMessage(current) : progressMessage(current), head);
  return { afterId: head, afterSeq: current.version };
}

/** Sends the snapshot or the replay after `lastEventId`, then releases the (started) follower after it. */
export async function startJobStream(
  ctx: JobsContext,
  follower: ChannelFollower,
  job: Job,
  lastEventId: string | undefined,
  writer: JobStreamWriter,
): Promise<void> {
  if (lastEventId === undefined) return follower.release(await writeJobSnapshot(ctx, job.id, 'job_progress', writer, job));
  const history = await ctx.bus.history(jobChannel(job.id), lastEventId);
  if (!history.complete) return follower.release(await writeJobSnapshot(ctx, job.id, 'reset', writer, job));
  let last = lastEventId;
  for (const event of history.events) {
    await writer.event(event);
    last = event.id;
  }
  follower.release({ afterId: last });
}
