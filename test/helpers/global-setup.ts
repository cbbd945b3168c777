/** Starts one real Postgres and one real Redis for the whole run; test files get their URLs via inject(). */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.js';
import { startRedis } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  project.provide('postgresUrl', pg.url);
  project.provide('redisUrl', redis.url);
  return async () => {
    await redis.stop();
    pg.stop();
  };
}
