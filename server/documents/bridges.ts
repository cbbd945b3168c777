/**
 * The document bridges of this instance (./bridge.ts): one per document that has JSON clients here, built by the
 * first client's join and disposed after the last one leaves.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { DocumentJson } from '../../shared/document-json.js';
import type { Bus } from '../bus/types.js';
import type { LockService } from '../collab/locks/lock-service.js';
import { DocumentBridge, type BridgeClient } from './bridge.js';
import type { DocumentService } from './document-service.js';

export class DocumentBridges {
  private readonly bridges = new Map<string, Promise<DocumentBridge>>();

  constructor(
    private readonly documents: DocumentService,
    private readonly locks: LockService,
    private readonly bus: Bus,
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** Joins `client` to the document's bridge (opening the document when needed). */
  async join(presentationId: string, client: BridgeClient): Promise<{ bridge: DocumentBridge; document: DocumentJson }> {
    let pending = this.bridges.get(presentationId);
    if (!pending) {
      pending = this.documents.open(presentationId).then((handle) => new DocumentBridge(presentationId, handle, this.locks, this.bus, this.logger));
      this.bridges.set(presentationId, pending);
      pending.catch(() => {
        if (this.bridges.get(presentationId) === pending) this.bridges.delete(presentationId);
      });
    }
    const bridge = await pending;
    // The last client left while this one waited: that bridge is going; build a new one.
    if (bridge.closed) return this.join(presentationId, client);
    return { bridge, document: bridge.join(client) };
  }

  /** Removes `client`; the last one out disposes the bridge (and releases the document). */
  async leave(bridge: DocumentBridge, client: BridgeClient): Promise<void> {
    bridge.leave(client);
    if (bridge.size > 0 || bridge.closed) return;
    bridge.closed = true;
    const current = this.bridges.get(bridge.presentationId);
    if (current)
      void current.then((b) => b === bridge && this.bridges.get(bridge.presentationId) === current && this.bridges.delete(bridge.presentationId));
    await bridge.dispose();
  }

  /** Shutdown: closes every JSON collaboration socket, so their documents can be stored and unloaded. */
  async closeAll(): Promise<void> {
    const bridges = [...this.bridges.values()];
    this.bridges.clear();
    await Promise.allSettled(bridges.map((pending) => this.end(pending, 'shutdown')));
  }

  /** The presentation was deleted: its JSON clients here are told NOT_FOUND and closed, its document released. */
  async closePresentation(presentationId: string): Promise<void> {
    const pending = this.bridges.get(presentationId);
    if (!pending) return;
    this.bridges.delete(presentationId);
    await this.end(pending, 'deleted');
  }

  private async end(pending: Promise<DocumentBridge>, reason: 'shutdown' | 'deleted'): Promise<void> {
    const bridge = await pending.catch(() => undefined);
    if (!bridge || bridge.closed) return;
    bridge.closeClients(reason);
    // Not waiting for each close handshake: the document is released now.
    bridge.closed = true;
    await bridge.dispose();
  }

  /** Bridges open on this instance (stats). */
  get count(): number {
    return this.bridges.size;
  }
}
