/**
 * The endpoint kinds of the realtime app, each with its own per-user connection count
 * (WEBSOCKET_MAX_CONNECTIONS_PER_USER, design §7). The counting itself is server/limits (memory, or Redis so that the
 * limit holds across instances).
 */
export type EndpointKind = 'generation-ws' | 'generation-sse' | 'notifications-ws' | 'notifications-sse';
