import { ArgumentError } from 'kubeloop/client';

/** A parsed cron schedule: the times it fires. */
export interface Schedule {
  /** The first time after `after` (exclusive) that the schedule fires, or undefined if none within five years. */
  next(after: Date): Date | undefined;
}

const macros: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a cron schedule as Kubernetes' CronJob reads it: five fields (minute, hour, day of month, month, day of week;
 * each `*`, a number, a range `a-b`, a step `*∕n` or `a-b∕n`, or a list of these), a macro (`@hourly`, `@daily`, …),
 * or `@every <n>s|m|h`. Times are UTC. Throws an ArgumentError naming what does not parse.
 */
export function parseSchedule(text: string): Schedule {
  const every = /^@every\s+(\d+)([smh])$/.exec(text.trim());
  if (every) {
    const ms = Number(every[1]) * (units[every[2] ?? 's'] ?? 1000);
    if (ms <= 0) throw new ArgumentError(`schedule "${text}": @every needs a positive interval`);
    return { next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + ms) };
  }
  const fields = (macros[text.trim()] ?? text).trim().split(/\s+/);
  if (fields.length !== 5) throw new ArgumentError(`schedule "${text}": want five fields, or a macro such as @hourly`);
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const sets = {
    minute: parseField(minute, 0, 59, text),
    hour: parseField(hour, 0, 23, text),
    dom: parseField(dom, 1, 31, text),
    month: parseField(month, 1, 12, text),
    // 0 and 7 are both Sunday.
    dow: new Set([...parseField(dow, 0, 7, text)].map((d) => d % 7)),
  };
  const anyDay = { dom: dom === '*', dow: dow === '*' };
  return { next: (after) => nextTime(sets, anyDay, after) };
}

function parseField(field: string, min: number, max: number, text: string): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ArgumentError(`schedule "${text}": "${part}" is not a number, range, step or *`);
    const from = m[1] === '*' ? min : Number(m[2]);
    const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < min || to > max || from > to || step < 1) {
      throw new ArgumentError(`schedule "${text}": "${part}" is outside ${min}-${max}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

interface FieldSets {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
}

/** Steps forward a month, day, hour or minute at a time, whichever field does not match: at most a few thousand steps. */
function nextTime(sets: FieldSets, anyDay: { dom: boolean; dow: boolean }, after: Date): Date | undefined {
  let t = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
  const limit = after.getUTCFullYear() + 5;
  while (t.getUTCFullYear() <= limit) {
    const [y, mo, d, h] = [t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours()];
    const domOk = sets.dom.has(d);
    const dowOk = sets.dow.has(t.getUTCDay());
    // As in cron: when both day fields are restricted, either may match.
    const dayOk = anyDay.dom || anyDay.dow ? domOk && dowOk : domOk || dowOk;
    if (!sets.month.has(mo + 1)) t = new Date(Date.UTC(y, mo + 1, 1));
    else if (!dayOk) t = new Date(Date.UTC(y, mo, d + 1));
    else if (!sets.hour.has(h)) t = new Date(Date.UTC(y, mo, d, h + 1));
    else if (!sets.minute.has(t.getUTCMinutes())) t = new Date(t.getTime() + 60_000);
    else return t;
  }
  return undefined;
}
