/**
 * The endpoint kinds of the streaming endpoints (`generation-ws`, `generation-sse`, `notifications-ws`, `collaboration-ws`,
 * `notifications-sse`: the manager and the transport, as in the metrics), each with its own per-user connection count
 * (at most WEBSOCKET_MAX_CONNECTIONS_PER_USER, default 5). The counting itself is server/limits (memory, or Redis so
 * that the limit holds across instances).
 */
import type { Manager, Transport } from '../metrics.js';

export type EndpointKind = `${Manager}-${Transport}`;
