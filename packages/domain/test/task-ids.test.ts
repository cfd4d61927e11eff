import { describe, expect, it } from 'vitest';
import { assignTaskIds } from '../src/task-ids.js';

describe('assignTaskIds', () => {
  it('gives one id to every path', () => {
    expect(assignTaskIds(['a', 'b'], '123')).toEqual(['123', '123']);
  });

  it('maps each id to its 2,000 paths', () => {
    const paths = Array.from({ length: 4500 }, (_v, i) => `p${i}`);
    const ids = assignTaskIds(paths, '1,2,3');
    expect(ids[0]).toBe('1');
    expect(ids[1999]).toBe('1');
    expect(ids[2000]).toBe('2');
    expect(ids[4499]).toBe('3');
  });

  it('keeps the whole string when the ids do not fit the rule', () => {
    expect(assignTaskIds(['a', 'b'], '7, 8')).toEqual(['7,8', '7,8']);
  });
});
