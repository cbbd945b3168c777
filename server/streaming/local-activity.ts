/**
 * What this instance's JSON sockets and SSE streams follow, for GET /realtime/stats: the bus channels, with how many
 * followers each. Counted by wrapping the bus the streams subscribe through, so no session keeps anything of its own
 * for it; one map entry per followed channel. (Users connected: server/status/user-connections.ts.)
 */
import type { Bus } from '../bus/types.js';

export class LocalActivity {
  private readonly followers = new Map<string, number>();

  /** The bus as the streams use it: each live subscription counted until it is removed. */
  trackBus(bus: Bus): Bus {
    const followers = this.followers;
    return {
      get kind() {
        return bus.kind;
      },
      publish: (channel, payload) => bus.publish(channel, payload),
      commit: (channel, change) => bus.commit(channel, change),
      state: (channel) => bus.state(channel),
      subscribe: async (channel, listener) => {
        const unsubscribe = await bus.subscribe(channel, listener);
        followers.set(channel, (followers.get(channel) ?? 0) + 1);
        // One closure per subscription (there is one per idle subscriber), counting down once.
        let counted = true;
        return () => {
          if (counted) {
            counted = false;
            const left = (followers.get(channel) ?? 1) - 1;
            if (left <= 0) followers.delete(channel);
            else followers.set(channel, left);
          }
          unsubscribe();
        };
      },
      history: (channel, afterId) => bus.history(channel, afterId),
      head: (channel) => bus.head(channel),
      ping: () => bus.ping(),
      close: () => bus.close(),
    };
  }

  /** Distinct bus channels followed by at least one stream. */
  get channels(): number {
    return this.followers.size;
  }

  /** Followers of channels whose name starts with `prefix` (e.g. `jobs.`). */
  followersOf(prefix: string): number {
    let total = 0;
    for (const [channel, count] of this.followers) if (channel.startsWith(prefix)) total += count;
    return total;
  }
}
