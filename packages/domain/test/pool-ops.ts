import fc from 'fast-check';
import type { ObjectType, Priority } from '../src/refresh-types.js';

/** Random operation sequences over a small universe of nested paths, shared by the model's property tests and the Redis differential test. */
export const DIRS = [
  'https://a.com/',
  'https://a.com/v/',
  'https://a.com/v/x/',
  'https://a.com/w/',
  'http://a.com/v/',
];
export const FILES = [
  'https://a.com/v/1.mp4',
  'https://a.com/v/x/2.mp4',
  'https://a.com/w/3.png',
  'https://a.com/4.js',
  'https://a.com/v/1.mp4?t=2',
  'https://a.com/v/',
  'http://a.com/v/5',
  'https://a.com/vx/6',
];

export type OutcomeKind = 'submitted' | 'rejected' | 'requeue-now' | 'requeue-later' | 'uncertain';

export type PoolOp =
  | { op: 'admit'; objectType: ObjectType; priority: Priority; paths: string[] }
  | { op: 'claim'; objectType: ObjectType; lane: Priority }
  | {
      op: 'finish';
      pick: number;
      outcomes: OutcomeKind[] /** The call started at claim time (else: at finish). */;
      calledBefore: boolean;
    };

const lane = fc.constantFrom<Priority>('high', 'normal', 'low');

export const poolOp: fc.Arbitrary<PoolOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('admit' as const),
      objectType: fc.constant<ObjectType>('File'),
      priority: lane,
      paths: fc.uniqueArray(fc.constantFrom(...FILES), { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('admit' as const),
      objectType: fc.constant<ObjectType>('Directory'),
      priority: lane,
      paths: fc.uniqueArray(fc.constantFrom(...DIRS), { minLength: 1, maxLength: 2 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('claim' as const),
      objectType: fc.constantFrom<ObjectType>('File', 'Directory'),
      lane,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('finish' as const),
      pick: fc.nat(),
      calledBefore: fc.boolean(),
      outcomes: fc.array(
        fc.constantFrom<OutcomeKind>('submitted', 'rejected', 'requeue-now', 'requeue-later', 'uncertain'),
        { minLength: 8, maxLength: 8 },
      ),
    }),
  },
);

export const poolOps = fc.array(poolOp, { minLength: 1, maxLength: 40 });

export const LATER_MS = 1e9;
