import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors/index.js';
import { SendBudget } from '../../../src/broker/response-budget.js';

function budgetWith(maxBytes: number): { budget: SendBudget; queue: { bytes: number }; changes: () => number } {
  const queue = { bytes: 0 };
  let changes = 0;
  const budget = new SendBudget(maxBytes, () => queue.bytes, () => { changes += 1; });
  return { budget, queue, changes: () => changes };
}

async function settled(promise: Promise<void>): Promise<'resolved' | 'pending' | 'rejected'> {
  let state: 'resolved' | 'pending' | 'rejected' = 'pending';
  promise.then(() => { state = 'resolved'; }, () => { state = 'rejected'; });
  await new Promise((resolve) => setImmediate(resolve));
  return state;
}

describe('SendBudget', () => {
  it('grants reservations while queued plus reserved bytes stay within the budget, then makes later ones wait', async () => {
    const { budget } = budgetWith(100);
    const first = budget.forRequest();
    const second = budget.forRequest();
    const third = budget.forRequest();
    expect(await settled(first.reserve(60))).toBe('resolved');
    expect(await settled(second.reserve(40))).toBe('resolved');
    const waiting = third.reserve(1);
    expect(await settled(waiting)).toBe('pending');
    expect(budget.isWaited).toBe(true);
    first.releaseAll();
    expect(await settled(waiting)).toBe('resolved');
    expect(budget.isWaited).toBe(false);
  });

  it('counts bytes queued on the socket, and wakes waiters when they drain', async () => {
    const { budget, queue } = budgetWith(100);
    queue.bytes = 90;
    const waiting = budget.forRequest().reserve(20);
    expect(await settled(waiting)).toBe('pending');
    queue.bytes = 80;
    budget.wake();
    expect(await settled(waiting)).toBe('resolved');
  });

  it('always grants one reservation when nothing is held, even one larger than the budget', async () => {
    const { budget } = budgetWith(100);
    const big = budget.forRequest();
    expect(await settled(big.reserve(1_000))).toBe('resolved');
    const next = budget.forRequest().reserve(1);
    expect(await settled(next)).toBe('pending');
    big.releaseAll();
    expect(await settled(next)).toBe('resolved');
  });

  it('serves waiters in arrival order: a small one does not overtake a large one', async () => {
    const { budget } = budgetWith(100);
    const holder = budget.forRequest();
    await holder.reserve(90);
    const large = budget.forRequest().reserve(50);
    const small = budget.forRequest().reserve(5);
    expect(await settled(small)).toBe('pending');
    holder.releaseAll();
    expect(await settled(large)).toBe('resolved');
    expect(await settled(small)).toBe('resolved');
  });

  it('releases what one request holds exactly once', async () => {
    const { budget } = budgetWith(100);
    const request = budget.forRequest();
    await request.reserve(100);
    request.releaseAll();
    request.releaseAll();
    const other = budget.forRequest();
    await other.reserve(100);
    expect(await settled(budget.forRequest().reserve(1))).toBe('pending');
  });

  it('fails waiting and later reservations with a typed error once the connection closes', async () => {
    const { budget, changes } = budgetWith(10);
    await budget.forRequest().reserve(10);
    const waiting = budget.forRequest().reserve(5);
    const changesBefore = changes();
    budget.close();
    await expect(waiting).rejects.toBeInstanceOf(SluiceError);
    await expect(budget.forRequest().reserve(1)).rejects.toBeInstanceOf(SluiceError);
    expect(changesBefore).toBeGreaterThan(0);
  });
});
