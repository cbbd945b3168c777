/**
 * The document operation vocabulary (design §12): one TypeBox schema for the JSON collaboration socket
 * (`edit_operation`) and for `POST /presentations/{id}/operations`. What each operation means on the plain JSON
 * document is shared/document-json.ts (applyOperation); the server applies it to the Yjs document.
 *
 * Text indexes and lengths count UTF-16 code units (JavaScript string indexes) of the field's plain text.
 * No server-only imports here, and no Yjs: front-ends without Yjs use this module.
 */
import { Type, type Static } from 'typebox';
import { SLIDE_ID_PATTERN } from './locks.js';

/** Longest text one operation may carry, and longest a slide field may become (UTF-16 code units). */
export const MAX_TEXT_LENGTH = 100_000;
/** Operations in one REST batch. */
export const MAX_OPERATIONS_PER_BATCH = 500;
/** Slides a document may reach through operations. */
export const MAX_SLIDES = 1000;
/** A meta value, serialized as JSON. */
export const MAX_META_VALUE_BYTES = 16 * 1024;
export const META_KEY_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
const metaKeyRe = new RegExp(META_KEY_PATTERN);
/** Names that would reach an object's prototype in a JSON copy: never meta keys of the JSON view. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether a meta key belongs to the JSON view (and may be set with `set_meta`). */
export function isMetaKey(key: string): boolean {
  return metaKeyRe.test(key) && !UNSAFE_KEYS.has(key);
}

export const SLIDE_FIELDS = ['title', 'body', 'notes'] as const;
export type SlideField = (typeof SLIDE_FIELDS)[number];

export const SlideFieldSchema = Type.Union([Type.Literal('title'), Type.Literal('body'), Type.Literal('notes')]);
export const SlideIdSchema = Type.String({ pattern: SLIDE_ID_PATTERN, description: 'letters, digits and _.:- (max 128)' });
const OperationIdSchema = Type.String({ minLength: 1, maxLength: 128, description: 'echoed in edit_ack and edit_operation' });
const TextSchema = Type.String({ maxLength: MAX_TEXT_LENGTH });
const IndexSchema = Type.Integer({ minimum: 0, maximum: 10_000_000 });
const strict = { additionalProperties: false } as const;

export const AddSlideOperation = Type.Object(
  {
    type: Type.Literal('add_slide'),
    operation_id: Type.Optional(OperationIdSchema),
    /** Default: a generated `slide-…` id. Refused when a slide has it already. */
    slide_id: Type.Optional(SlideIdSchema),
    /** Position in the slide order (default: the end). */
    index: Type.Optional(IndexSchema),
    content: Type.Optional(
      Type.Object({ title: Type.Optional(TextSchema), body: Type.Optional(TextSchema), notes: Type.Optional(TextSchema) }, strict),
    ),
  },
  strict,
);
export const DeleteSlideOperation = Type.Object(
  { type: Type.Literal('delete_slide'), operation_id: Type.Optional(OperationIdSchema), slide_id: SlideIdSchema },
  strict,
);
export const MoveSlideOperation = Type.Object(
  {
    type: Type.Literal('move_slide'),
    operation_id: Type.Optional(OperationIdSchema),
    slide_id: SlideIdSchema,
    /** Its position afterwards (counted without the slide itself while it moves). */
    index: IndexSchema,
  },
  strict,
);
export const InsertOperation = Type.Object(
  {
    type: Type.Literal('insert'),
    operation_id: Type.Optional(OperationIdSchema),
    slide_id: SlideIdSchema,
    field: SlideFieldSchema,
    index: IndexSchema,
    content: Type.Object({ text: Type.String({ minLength: 1, maxLength: MAX_TEXT_LENGTH }) }, strict),
  },
  strict,
);
export const DeleteOperation = Type.Object(
  {
    type: Type.Literal('delete'),
    operation_id: Type.Optional(OperationIdSchema),
    slide_id: SlideIdSchema,
    field: SlideFieldSchema,
    index: IndexSchema,
    length: Type.Integer({ minimum: 1, maximum: MAX_TEXT_LENGTH }),
  },
  strict,
);
export const ReplaceOperation = Type.Object(
  {
    type: Type.Literal('replace'),
    operation_id: Type.Optional(OperationIdSchema),
    slide_id: SlideIdSchema,
    field: SlideFieldSchema,
    content: Type.Object({ text: TextSchema }, strict),
  },
  strict,
);
export const SetMetaOperation = Type.Object(
  {
    type: Type.Literal('set_meta'),
    operation_id: Type.Optional(OperationIdSchema),
    key: Type.String({ pattern: META_KEY_PATTERN }),
    /** Any JSON value (at most MAX_META_VALUE_BYTES serialized); null removes the key. */
    value: Type.Unknown(),
  },
  strict,
);

export const OperationSchema = Type.Union([
  AddSlideOperation,
  DeleteSlideOperation,
  MoveSlideOperation,
  InsertOperation,
  DeleteOperation,
  ReplaceOperation,
  SetMetaOperation,
]);
export type Operation = Static<typeof OperationSchema>;
export type OperationType = Operation['type'];
export type AddSlideOperation = Static<typeof AddSlideOperation>;

export const OperationsBody = Type.Object({ operations: Type.Array(OperationSchema, { minItems: 1, maxItems: MAX_OPERATIONS_PER_BATCH }) }, strict);
export type OperationsBody = Static<typeof OperationsBody>;

/**
 * An operation as the server sends it in `edit_operation` (what happened, in terms a JSON copy applies as is):
 * add_slide always names its slide, index and whole content; a `replace` arrives as `delete` + `insert`.
 */
export type AppliedOperation =
  | { type: 'add_slide'; operation_id?: string; slide_id: string; index: number; content: { title: string; body: string; notes: string } }
  | { type: 'delete_slide'; operation_id?: string; slide_id: string }
  | { type: 'move_slide'; operation_id?: string; slide_id: string; index: number }
  | { type: 'insert'; operation_id?: string; slide_id: string; field: SlideField; index: number; content: { text: string } }
  | { type: 'delete'; operation_id?: string; slide_id: string; field: SlideField; index: number; length: number }
  | { type: 'set_meta'; operation_id?: string; key: string; value: unknown };
