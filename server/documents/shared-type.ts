/**
 * Any Yjs shared type, as Yjs itself types the parents of items and the keys of `transaction.changed`
 * (`AbstractType<YEvent<any>>`): comparing and walking those needs the same type.
 */
import type * as Y from 'yjs';

// biome-ignore lint/suspicious/noExplicitAny: Yjs' own type for a shared type of any kind (see above).
export type SharedType = Y.AbstractType<any>;
