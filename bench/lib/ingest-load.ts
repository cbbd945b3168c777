/**
 * Progress ingest load: autocannon POSTing round-robin over a set of jobs' requests, as a fleet of workers (one per
 * job) would post. Used by the paired ingest scenario (../scenarios/ingest.ts) and bench/tools/ingest-probe.ts.
 */
import autocannon from 'autocannon';

export interface IngestRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface IngestLoad {
  connections: number;
  seconds: number;
  /** POSTs/s in all (autocannon's overallRate); unset: as many as the target answers. */
  overallRate?: number;
}

/** autocannon's result plus the count of 2xx answers (in its results, missing from its types). */
export type IngestResult = autocannon.Result & { '2xx': number };

export async function postRoundRobin(url: string, requests: IngestRequest[], load: IngestLoad): Promise<IngestResult> {
  let next = 0;
  const result = await autocannon({
    url,
    connections: load.connections,
    duration: load.seconds,
    ...(load.overallRate ? { overallRate: load.overallRate } : {}),
    method: 'POST',
    headers: requests[0]!.headers,
    body: requests[0]!.body,
    requests: [{ method: 'POST', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: requests[next++ % requests.length]!.path }) }],
  } as unknown as autocannon.Options);
  return result as IngestResult;
}
