/**
 * Chat messages and read marks in Postgres (migration 005). `seq` orders a presentation's messages: history pages,
 * read marks and unread counts compare seqs, never times.
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage, ChatReadMark } from '../../shared/chat.js';
import type { Db } from '../store/db.js';

interface MessageRow {
  id: string;
  seq: string | number;
  presentation_id: string;
  user_id: string;
  user_name: string;
  text: string;
  reply_to: string | null;
  created_at: Date | string;
  edited_at: Date | string | null;
  deleted_at: Date | string | null;
}

/** A message as stored: its API shape plus its position. */
export interface StoredMessage {
  message: ChatMessage;
  seq: number;
}

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());
const COLUMNS = 'id, seq, presentation_id, user_id, user_name, text, reply_to, created_at, edited_at, deleted_at';
const PRUNE_BATCH = 1000;

function toStored(row: MessageRow): StoredMessage {
  return {
    seq: Number(row.seq),
    message: {
      id: row.id,
      presentation_id: row.presentation_id,
      user_id: row.user_id,
      user_name: row.user_name,
      text: row.text,
      reply_to: row.reply_to,
      created_at: iso(row.created_at),
      edited_at: row.edited_at === null ? null : iso(row.edited_at),
      deleted: row.deleted_at !== null,
    },
  };
}

export interface NewMessage {
  presentationId: string;
  userId: string;
  userName: string;
  text: string;
  replyTo: string | null;
}

export class ChatStore {
  constructor(private readonly db: Db) {}

  /** Stores a message; null when `replyTo` is not a message of the same presentation. */
  async insert(m: NewMessage): Promise<StoredMessage | null> {
    const { rows } = await this.db.query<MessageRow>(
      `INSERT INTO chat_messages (id, presentation_id, user_id, user_name, text, reply_to)
       SELECT $1, $2, $3, $4, $5, $6::uuid
       WHERE $6::uuid IS NULL OR EXISTS (SELECT 1 FROM chat_messages WHERE id = $6::uuid AND presentation_id = $2)
       RETURNING ${COLUMNS}`,
      [randomUUID(), m.presentationId, m.userId, m.userName, m.text, m.replyTo],
    );
    return rows[0] ? toStored(rows[0]) : null;
  }

  async get(id: string): Promise<StoredMessage | null> {
    const { rows } = await this.db.query<MessageRow>(`SELECT ${COLUMNS} FROM chat_messages WHERE id = $1`, [id]);
    return rows[0] ? toStored(rows[0]) : null;
  }

  /** The newest `limit` messages (tombstones included) before `beforeSeq` (or the newest), newest first. */
  async history(presentationId: string, beforeSeq: number | null, limit: number): Promise<StoredMessage[]> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT ${COLUMNS} FROM chat_messages
       WHERE presentation_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
       ORDER BY seq DESC LIMIT $3`,
      [presentationId, beforeSeq, limit],
    );
    return rows.map(toStored);
  }

  /** Replaces the text of a message that is not deleted; null when there is none. */
  async edit(id: string, text: string): Promise<StoredMessage | null> {
    const { rows } = await this.db.query<MessageRow>(
      `UPDATE chat_messages SET text = $2, edited_at = clock_timestamp() WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [id, text],
    );
    return rows[0] ? toStored(rows[0]) : null;
  }

  /** Turns a message into a tombstone (text emptied); null when it already is one (or does not exist). */
  async tombstone(id: string): Promise<StoredMessage | null> {
    const { rows } = await this.db.query<MessageRow>(
      `UPDATE chat_messages SET text = '', deleted_at = clock_timestamp() WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ? toStored(rows[0]) : null;
  }

  /**
   * Moves the user's read mark forward to `messageId` (a message of the presentation). Returns the new mark, or
   * `changed: false` when the mark already was there or later, or null when the message is not in the presentation.
   */
  async markRead(presentationId: string, userId: string, messageId: string): Promise<{ changed: boolean; mark: ChatReadMark } | null> {
    const { rows } = await this.db.query<{ message_id: string; read_at: Date | string }>(
      `INSERT INTO chat_reads (presentation_id, user_id, message_id, message_seq)
       SELECT $1, $2, id, seq FROM chat_messages WHERE id = $3 AND presentation_id = $1
       ON CONFLICT (presentation_id, user_id) DO UPDATE
         SET message_id = EXCLUDED.message_id, message_seq = EXCLUDED.message_seq, read_at = clock_timestamp()
         WHERE chat_reads.message_seq < EXCLUDED.message_seq
       RETURNING message_id, read_at`,
      [presentationId, userId, messageId],
    );
    if (rows[0]) return { changed: true, mark: { user_id: userId, message_id: rows[0].message_id, read_at: iso(rows[0].read_at) } };
    const message = await this.get(messageId);
    if (!message || message.message.presentation_id !== presentationId) return null;
    const current = (await this.reads(presentationId, userId))[0];
    return current ? { changed: false, mark: current } : null;
  }

  /** The read marks of a presentation (of one user when `userId` is given). */
  async reads(presentationId: string, userId?: string): Promise<ChatReadMark[]> {
    const { rows } = await this.db.query<{ user_id: string; message_id: string; read_at: Date | string }>(
      `SELECT user_id, message_id, read_at FROM chat_reads
       WHERE presentation_id = $1 AND ($2::text IS NULL OR user_id = $2) ORDER BY user_id`,
      [presentationId, userId ?? null],
    );
    return rows.map((r) => ({ user_id: r.user_id, message_id: r.message_id, read_at: iso(r.read_at) }));
  }

  /** Messages after the user's read mark, not deleted, not the user's own. */
  async unread(presentationId: string, userId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM chat_messages
       WHERE presentation_id = $1 AND user_id <> $2 AND deleted_at IS NULL
         AND seq > COALESCE((SELECT message_seq FROM chat_reads WHERE presentation_id = $1 AND user_id = $2), 0)`,
      [presentationId, userId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Deletes messages created more than `days` days ago, in batches; returns how many. */
  async pruneOlderThan(days: number): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows } = await this.db.query(
        `DELETE FROM chat_messages WHERE id IN (
           SELECT id FROM chat_messages WHERE created_at < now() - make_interval(days => $1::int) LIMIT ${PRUNE_BATCH})
         RETURNING 1`,
        [days],
      );
      total += rows.length;
      if (rows.length < PRUNE_BATCH) return total;
    }
  }
}
