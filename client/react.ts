/**
 * React hooks for the SDK, without making React a dependency: pass your React (anything with `useState` and
 * `useEffect` of React's shape) and get the hooks back.
 *
 *   import * as React from 'react';
 *   import { createDeckhandHooks } from 'deckhand/client/react';
 *   export const { usePresentation, usePresence, useJob } = createDeckhandHooks(React);
 */
import type * as Y from 'yjs';
import type { DeckhandClient } from './client.js';
import type { DeckhandError } from './errors.js';
import type { FollowJobOptions } from './jobs.js';
import type { Peer } from './presentation/presence.js';
import type { PresentationSession, SessionState } from './presentation/session.js';
import type { JobProgressData } from '../shared/messages.js';

/** The part of React the hooks use. */
export interface ReactHooksLike {
  useState<S>(initial: S | (() => S)): [S, (next: S) => void];
  useEffect(effect: () => void | (() => void), deps: readonly unknown[]): void;
}

export interface DeckhandHooks {
  /**
   * Opens presentation `id` while the component is mounted; `session` is null until then. `doc` is the session's
   * document: it changes when the session replaces it with the server's after a refused edit, so an effect that binds
   * an editor to it (with `doc` in its deps) binds again.
   */
  usePresentation(client: DeckhandClient, id: string): { session: PresentationSession | null; state: SessionState | null; doc: Y.Doc | null };
  /** The other users on the presentation, updated as they come, go, move and type. */
  usePresence(session: PresentationSession | null): Peer[];
  /** Follows job `jobId` (none when null); `error` is set when following stopped on a fatal error. */
  useJob(
    client: DeckhandClient,
    jobId: string | null,
    options?: Pick<FollowJobOptions, 'transport'>,
  ): { state: JobProgressData | null; error: DeckhandError | null };
}

export function createDeckhandHooks(react: ReactHooksLike): DeckhandHooks {
  return {
    usePresentation(client, id) {
      const [session, setSession] = react.useState<PresentationSession | null>(null);
      const [state, setState] = react.useState<SessionState | null>(null);
      const [doc, setDoc] = react.useState<Y.Doc | null>(null);
      react.useEffect(() => {
        const opened = client.openPresentation(id);
        setSession(opened);
        setState(opened.state);
        setDoc(opened.doc);
        const offState = opened.onState(setState);
        const offDocument = opened.onDocument(setDoc);
        return () => {
          offState();
          offDocument();
          opened.close();
          setSession(null);
          setState(null);
          setDoc(null);
        };
      }, [client, id]);
      return { session, state, doc };
    },

    usePresence(session) {
      const [peers, setPeers] = react.useState<Peer[]>([]);
      react.useEffect(() => {
        if (!session) {
          setPeers([]);
          return;
        }
        setPeers(session.presence.others());
        return session.presence.onChange(setPeers);
      }, [session]);
      return peers;
    },

    useJob(client, jobId, options = {}) {
      const [state, setState] = react.useState<JobProgressData | null>(null);
      const [error, setError] = react.useState<DeckhandError | null>(null);
      const transport = options.transport;
      react.useEffect(() => {
        setState(null);
        setError(null);
        if (!jobId) return;
        const follower = client.followJob(jobId, (event) => setState(event.data), {
          transport,
          onError: (err, fatal) => {
            if (fatal) setError(err);
          },
        });
        return () => follower.stop();
      }, [client, jobId, transport]);
      return { state, error };
    },
  };
}
