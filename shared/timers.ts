/**
 * The longest delay setTimeout takes (2^31 − 1 ms, about 24.8 days): a longer one fires at once. Timers for token
 * expiries (which may be months away) are capped at this and re-armed when they fire early.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
