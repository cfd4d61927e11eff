/**
 * The shared clock: Redis' time in epoch ms (RedisClock implements it). Every time that is
 * compared across processes (pool delays, call start times, task ages) is read from it.
 */
export interface Clock {
  now(): number;
}
