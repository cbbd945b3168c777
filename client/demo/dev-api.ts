/**
 * The demo's own calls to the development-only routes of the server: a token for the chosen name (which also lets
 * the user into the deck), and starting a simulated generation job.
 */
export interface DevIdentity {
  userId: string;
  name: string;
  /** `owner` for whoever opened the deck first, else `editor` (or the role the user already had). */
  role: string | null;
}

/** Refetch the token when less than this is left (the SDK asks for a fresh one 30 s before expiry). */
const MIN_VALIDITY_MS = 60_000;

async function postJson(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const message = typeof json.message === 'string' ? json.message : `HTTP ${response.status}`;
    throw new Error(response.status === 404 ? 'this server has no dev token route (production, or JWT_PUBLIC_KEY)' : message);
  }
  return json;
}

interface TokenAnswer {
  token: string;
  expiresAt: number;
  identity: DevIdentity;
}

async function requestToken(server: string, name: string, presentationId: string): Promise<TokenAnswer> {
  const body = await postJson(`${server}/api/v1/dev/token`, { name, presentation_id: presentationId });
  const { token, user_id: userId, name: shownName, expires_at: expiresAt, role } = body;
  if (typeof token !== 'string' || typeof userId !== 'string' || typeof shownName !== 'string' || typeof expiresAt !== 'string') {
    throw new Error('unexpected answer from /dev/token');
  }
  return { token, expiresAt: Date.parse(expiresAt), identity: { userId, name: shownName, role: typeof role === 'string' ? role : null } };
}

export class DevApi {
  readonly identity: DevIdentity;
  private cached: { token: string; expiresAt: number };

  private constructor(
    private readonly server: string,
    private readonly presentationId: string,
    first: TokenAnswer,
  ) {
    this.identity = first.identity;
    this.cached = first;
  }

  /** Signs in as `name` on `presentationId`. */
  static async signIn(server: string, name: string, presentationId: string): Promise<DevApi> {
    return new DevApi(server, presentationId, await requestToken(server, name, presentationId));
  }

  /** The SDK's token function: the cached token while it has a minute left, else a fresh one. */
  readonly token = async (): Promise<string> => {
    if (this.cached.expiresAt - Date.now() < MIN_VALIDITY_MS) this.cached = await requestToken(this.server, this.identity.name, this.presentationId);
    return this.cached.token;
  };

  /** Starts the generator on this deck: it writes the slides into it as it drafts them. */
  async startGeneration(topic: string): Promise<string> {
    const body = await postJson(
      `${this.server}/api/v1/dev/generation`,
      { topic, slides: 4, presentation_id: this.presentationId },
      await this.token(),
    );
    if (typeof body.job_id !== 'string') throw new Error('no job id in the answer');
    return body.job_id;
  }
}
