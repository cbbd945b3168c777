/**
 * The HTTP rate limit's store (@fastify/rate-limit `store`) when REDIS_URL is set: each route's counts are kept by the
 * app's HttpRateSync (./http-rate-sync.ts: counted here, shared through Redis in rounds; its tolerance is stated there).
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { HttpRateSync, Result } from './http-rate-sync.js';

type Callback = (err: Error | null, result: Result) => void;

/** The store class @fastify/rate-limit instantiates (`store` option), counting in `sync`. */
export function httpRateStore(sync: HttpRateSync): FastifyRateLimitStoreCtor {
  class SyncedRateStore implements FastifyRateLimitStore {
    /** `{method}{url}-` for a route with its own limit (as @fastify/rate-limit's stores key them), else ''. */
    route = '';

    incr(key: string, callback: Callback, windowMs: number): void {
      const result = sync.incr(this.route + key, windowMs);
      if (result instanceof Promise) void result.then((r) => callback(null, r));
      else callback(null, result);
    }

    read(key: string, callback: Callback): void {
      callback(null, sync.read(this.route + key));
    }

    child(routeOptions: unknown): FastifyRateLimitStore {
      // At run time @fastify/rate-limit passes the merged limit options, with the route under `routeInfo`.
      const info = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      const store = new SyncedRateStore();
      store.route = `${String(info.method ?? '')}${String(info.url ?? '')}-`;
      return store;
    }
  }
  return SyncedRateStore;
}
