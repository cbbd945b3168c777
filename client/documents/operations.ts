/**
 * The operations API from the SDK (workers and front-ends without Yjs): apply a batch (all or none, durable when the
 * promise resolves) and read the document as plain JSON. Refusals reject with a DeckhandError: LOCKED,
 * PERMISSION_DENIED, INVALID_MESSAGE (its `details.operation_index` names the operation), NOT_FOUND.
 */
import type { DocumentJson } from '../../shared/document-json.js';
import type { Operation } from '../../shared/operations.js';
import type { ClientContext } from '../context.js';
import { requestJson } from '../rest.js';

export interface AppliedBatch {
  /** Operations applied: all of the batch. */
  applied: number;
  /** Ids of the slides the batch added, in batch order (generated ones included). */
  slide_ids: string[];
}

export class DocumentOperations {
  constructor(private readonly ctx: ClientContext) {}

  /** Applies `operations` to presentation `presentationId` as one change. */
  async apply(presentationId: string, operations: Operation[]): Promise<AppliedBatch> {
    return (await requestJson(this.ctx, 'POST', `/api/v1/presentations/${encodeURIComponent(presentationId)}/operations`, {
      operations,
    })) as AppliedBatch;
  }

  /** The document as plain JSON (meta, slides in order). */
  async get(presentationId: string): Promise<DocumentJson> {
    return (await requestJson(this.ctx, 'GET', `/api/v1/presentations/${encodeURIComponent(presentationId)}/document`)) as DocumentJson;
  }
}
