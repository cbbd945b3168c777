/**
 * Where a struct is, or will be once integrated: its root type and the chain of structs from the root down to it
 * (a slide, the key under the slide, …; a thread, a comment, the key under the comment, …). For a struct of the
 * document this walks its parents; for a new struct of an update it follows what Yjs' integration will follow: the
 * parent of its origin (else of its right origin), else the parent it names. A struct whose neighbour or parent is a
 * GC struct integrates as GC itself: its place is `VOID`.
 *
 * New structs must be asked for in integration order (everything a struct depends on comes before it), so each
 * lookup is one step from an already-known place. Places of document types are cached for as long as the type
 * lives (a type never moves: Yjs has no move, and a root type keeps its name), so typing into a text resolves that
 * text's place once, not once per keystroke.
 */
import * as Y from 'yjs';
import type { DecodedUpdate } from './decoded-update.js';

export interface Link {
  item: Y.Item;
  /** The struct is in the update being judged (not in the document yet). */
  fromUpdate: boolean;
  /** The map key it is stored under (parentSub), or null in an array or text. */
  key: string | null;
}

export interface Place {
  /** The root type's name, or null when the struct integrates as GC. */
  root: string | null;
  /** From the root's child down to the struct itself. */
  links: readonly Link[];
}

export const VOID: Place = { root: null, links: [] };

/** Places of document types, across decisions (entries go with their types). */
const typePlaces = new WeakMap<Y.AbstractType<unknown>, Place>();

export class Places {
  private readonly ofNew = new Map<Y.Item, Place>();

  constructor(
    private readonly doc: Y.Doc,
    private readonly update: DecodedUpdate,
  ) {}

  /** Where a struct of the document is. */
  existing(item: Y.Item): Place {
    const parent = item.parent;
    if (!(parent instanceof Y.AbstractType)) return VOID;
    const base = this.typePlace(parent);
    return base.root === null ? VOID : extend(base, { item, fromUpdate: false, key: item.parentSub });
  }

  /**
   * Where a new struct of the update will be integrated (ask in integration order). When the document already has
   * its first `known` clocks, Yjs integrates the rest after the struct's own previous clock, whatever its origin says.
   */
  incoming(item: Y.Item, known = 0): Place {
    const cached = this.ofNew.get(item);
    if (cached) return cached;
    const place = this.resolve(item, known > 0 ? Y.createID(item.id.client, item.id.clock + known - 1) : item.origin);
    this.ofNew.set(item, place);
    return place;
  }

  /** The places of the new structs resolved so far. */
  placed(): IterableIterator<Place> {
    return this.ofNew.values();
  }

  /** The struct holding `id`, in the document (which wins for clocks it has) or in the update. */
  lookup(id: Y.ID): { struct: Y.Item | Y.GC | Y.Skip; fromUpdate: boolean } | null {
    if (id.clock < Y.getState(this.doc.store, id.client)) return { struct: Y.getItem(this.doc.store, id) as Y.Item | Y.GC, fromUpdate: false };
    const struct = this.update.find(id);
    return struct ? { struct, fromUpdate: true } : null;
  }

  private resolve(item: Y.Item, origin: Y.ID | null): Place {
    const left = origin ? this.lookup(origin) : null;
    const right = item.rightOrigin ? this.lookup(item.rightOrigin) : null;
    if ((origin && !(left?.struct instanceof Y.Item)) || (item.rightOrigin && !(right?.struct instanceof Y.Item))) return VOID;
    const neighbour = left ?? right;
    if (neighbour) {
      const struct = neighbour.struct as Y.Item;
      const place = neighbour.fromUpdate ? this.incoming(struct) : this.existing(struct);
      if (place.root === null) return VOID;
      const links = place.links.slice();
      links[links.length - 1] = { item, fromUpdate: true, key: (links[links.length - 1] as Link).key };
      return { root: place.root, links };
    }
    const self = { item, fromUpdate: true, key: item.parentSub };
    if (typeof item.parent === 'string') return { root: item.parent, links: [self] };
    if (item.parent instanceof Y.ID) {
      const holder = this.lookup(item.parent);
      if (!holder || !(holder.struct instanceof Y.Item) || !(holder.struct.content instanceof Y.ContentType)) return VOID;
      const place = holder.fromUpdate ? this.incoming(holder.struct) : this.existing(holder.struct);
      return place.root === null ? VOID : extend(place, self);
    }
    return VOID;
  }

  private typePlace(type: Y.AbstractType<unknown>): Place {
    const cached = typePlaces.get(type);
    if (cached) return cached;
    let place: Place;
    if (type._item === null) {
      let root: string | null = null;
      for (const [name, value] of this.doc.share) {
        if (value === type) root = name;
      }
      place = { root, links: [] };
    } else {
      place = this.existing(type._item);
    }
    // A root found nowhere in doc.share is a replaced generic root: not cached, so it is looked up again.
    if (place.root !== null || type._item !== null) typePlaces.set(type, place);
    return place;
  }
}

function extend(place: Place, link: Link): Place {
  return { root: place.root, links: [...place.links, link] };
}
