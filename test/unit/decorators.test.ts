import 'reflect-metadata';
import { container, inject, injectable } from 'tsyringe';
import { describe, expect, it } from 'vitest';

// Proves that vitest compiles legacy decorators with emitted metadata, as tsc does for the package: tsyringe must be
// able to build a class from an explicit @inject(TOKEN) parameter and from a class-typed parameter (which needs
// `design:paramtypes`).
const GREETING = Symbol('GREETING');

@injectable()
class Clock {
  now(): number {
    return 42;
  }
}

@injectable()
class Greeter {
  constructor(
    @inject(GREETING) readonly greeting: string,
    readonly clock: Clock,
  ) {}
}

// A decorator that only marks the class, so the emitted metadata is seen as the compiler wrote it (tsyringe's
// @injectable rewrites the parameter list it reads).
const marked = (): ClassDecorator => () => undefined;

@marked()
class Plain {
  constructor(
    readonly name: string,
    readonly clock: Clock,
  ) {}
}

describe('decorators in tests', () => {
  it('emits design:paramtypes for constructor parameters', () => {
    expect(Reflect.getMetadata('design:paramtypes', Plain)).toEqual([String, Clock]);
    expect(new Plain('x', new Clock()).name).toBe('x');
  });

  it('lets tsyringe construct a class through constructor injection', () => {
    const child = container.createChildContainer();
    child.register(GREETING, { useValue: 'hello' });
    const greeter = child.resolve(Greeter);
    expect(greeter.greeting).toBe('hello');
    expect(greeter.clock).toBeInstanceOf(Clock);
    expect(greeter.clock.now()).toBe(42);
  });
});
