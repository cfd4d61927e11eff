import type { BudgetFamily, Priority, WorkType } from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import type { QuotaState } from './quota-governor.js';

export interface LaneEstimate {
  backlog: number;
  /** Epoch ms (Redis clock); null when no budget is left at all. */
  estimatedSubmitAt: number | null;
}

export interface QuotaEstimates {
  at: number;
  /** Per pool type (the worker publishes the types it knows; older ones only File and Directory). */
  byType: Partial<Record<WorkType, Record<Priority, LaneEstimate>>>;
  /** Per type: today's demand exceeds what the day can still grant (docs/scarcity.md). */
  pressure?: Partial<Record<BudgetFamily, boolean>>;
  /** The governor's view at `at`: today's use and budgets, when the day resets, holds in force. */
  quota?: QuotaState;
}

/** The snapshot workers publish every few seconds and intake shows in request statuses. */
export async function publishEstimates(
  redis: Redis,
  keys: Keyspace,
  estimates: QuotaEstimates,
  ttlMs: number,
): Promise<void> {
  await redis.set(keys.estimates, JSON.stringify(estimates), 'PX', ttlMs);
}

export async function readEstimates(redis: Redis, keys: Keyspace): Promise<QuotaEstimates | undefined> {
  const raw = await redis.get(keys.estimates);
  return raw === null ? undefined : (JSON.parse(raw) as QuotaEstimates);
}
