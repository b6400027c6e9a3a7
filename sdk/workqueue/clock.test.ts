import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeClock, realClock } from './index.js';

describe('fake clock', () => {
  it('starts at startMs and moves only when advanced', () => {
    const clock = createFakeClock({ startMs: 1000 });
    expect(clock.now()).toBe(1000);
    clock.advance(250);
    expect(clock.now()).toBe(1250);
    expect(createFakeClock().now()).toBe(0);
  });

  it('fires due timers in order of due time, ties in creation order, each seeing its own due time', () => {
    const clock = createFakeClock();
    const fired: string[] = [];
    clock.setTimer(() => fired.push(`c@${clock.now()}`), 30);
    clock.setTimer(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => fired.push(`b1@${clock.now()}`), 20);
    clock.setTimer(() => fired.push(`b2@${clock.now()}`), 20);
    expect(clock.pendingTimers()).toBe(4);
    clock.advance(25);
    expect(fired).toEqual(['a@10', 'b1@20', 'b2@20']);
    expect(clock.now()).toBe(25);
    clock.advance(5);
    expect(fired).toEqual(['a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires timers made by callbacks if they fall due within the same advance', () => {
    const clock = createFakeClock();
    const fired: number[] = [];
    const again = (): void => {
      fired.push(clock.now());
      if (fired.length < 10) clock.setTimer(again, 100);
    };
    clock.setTimer(again, 100);
    clock.advance(350);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('never fires a cancelled timer', () => {
    const clock = createFakeClock();
    let fired = false;
    const timer = clock.setTimer(() => {
      fired = true;
    }, 10);
    timer.unref();
    timer.cancel();
    timer.cancel();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(100);
    expect(fired).toBe(false);
  });

  it('step() jumps to the next timer and fires it, returning how far time moved', () => {
    const clock = createFakeClock();
    const fired: number[] = [];
    expect(clock.step()).toBeUndefined();
    clock.setTimer(() => fired.push(clock.now()), 40);
    clock.setTimer(() => fired.push(clock.now()), 40);
    clock.setTimer(() => fired.push(clock.now()), 70);
    expect(clock.step()).toBe(40);
    expect(fired).toEqual([40, 40]);
    expect(clock.step()).toBe(30);
    expect(fired).toEqual([40, 40, 70]);
    expect(clock.step()).toBeUndefined();
    expect(clock.now()).toBe(70);
  });

  it('rejects moving backwards', () => {
    const clock = createFakeClock();
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
  });
});

const count = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

describe('real clock', () => {
  it('reads monotonic time and fires a timer no earlier than its delay', async () => {
    const start = realClock.now();
    const firedAt = await new Promise<number>((resolve) => realClock.setTimer(() => resolve(realClock.now()), 20));
    expect(firedAt - start).toBeGreaterThanOrEqual(20);
    expect(realClock.now()).toBeGreaterThanOrEqual(firedAt);
  });

  it('never fires a cancelled timer', async () => {
    let fired = false;
    const timer = realClock.setTimer(() => {
      fired = true;
    }, 5);
    timer.cancel();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toBe(false);
  });

  it('lets the process exit while an unref()ed timer is pending', () => {
    const before = count();
    const timer = realClock.setTimer(() => {}, 60_000);
    expect(count()).toBe(before + 1);
    timer.unref();
    expect(count()).toBe(before);
    timer.cancel();
  });
});

describe('real clock, beyond the longest Node timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('honours a delay longer than 2^31-1 ms instead of firing at once', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let fired = false;
    const thirtyDaysMs = 30 * 24 * 3600 * 1000;
    realClock.setTimer(() => {
      fired = true;
    }, thirtyDaysMs);
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(false);
    vi.advanceTimersByTime(2 ** 31);
    expect(fired).toBe(false);
    vi.advanceTimersByTime(thirtyDaysMs - 2 ** 31 - 1000);
    expect(fired).toBe(true);
  });
});
