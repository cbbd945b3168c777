/**
 * The endpoint kinds of the streaming endpoints, each with its own per-user connection count (at most
 * WEBSOCKET_MAX_CONNECTIONS_PER_USER, default 5). The counting itself is server/limits (memory, or Redis so that the
 * limit holds across instances).
 */
export type EndpointKind = 'generation-ws' | 'generation-sse' | 'notifications-ws' | 'notifications-sse';
