/**
 * A chat template is code from the file: Jinja, run by @huggingface/jinja's interpreter. This runs
 * it with bounds, so a hostile or broken template costs a typed 'template' error, never a dead or
 * hung engine:
 *  - steps: every node the interpreter evaluates counts (a loop body is many), at most MAX_STEPS;
 *  - time: the wall clock is read every 1024 steps, at most MAX_MS;
 *  - size: a string over MAX_CHARS or a list over MAX_ITEMS ends the render as soon as it exists,
 *    and `range()` refuses to build one (its list is allocated in one call, before any step).
 * The interpreter only calls back into JavaScript through these evaluations and a few built-in
 * filters, so the bounds hold without a Worker to terminate: a step can be slow only by building a
 * big value, and the size checks stop that at the first one.
 */
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { SparseScopeError } from '../errors.ts';

export const TEMPLATE_LIMITS = Object.freeze({ MAX_STEPS: 1_000_000, MAX_MS: 2_000, MAX_CHARS: 1 << 20, MAX_ITEMS: 100_000 });

type Limits = { -readonly [K in keyof typeof TEMPLATE_LIMITS]: number };

function limitError(what: string): SparseScopeError {
  return new SparseScopeError(
    'template',
    `the chat template ${what}; it was stopped (templates run with at most ${TEMPLATE_LIMITS.MAX_STEPS.toLocaleString('en')} steps, ${TEMPLATE_LIMITS.MAX_MS} ms, strings of ${TEMPLATE_LIMITS.MAX_CHARS.toLocaleString('en')} characters and lists of ${TEMPLATE_LIMITS.MAX_ITEMS.toLocaleString('en')} items)`,
  );
}

class BoundedInterpreter extends Interpreter {
  private steps = 0;
  private readonly deadline: number;
  constructor(
    env: Environment,
    private readonly limits: Limits,
  ) {
    super(env);
    this.deadline = performance.now() + limits.MAX_MS;
  }
  override evaluate(...args: Parameters<Interpreter['evaluate']>): ReturnType<Interpreter['evaluate']> {
    if (args[0] === COUNT_STEP) {
      this.count();
      return NULL_VALUE;
    }
    this.count();
    const v = super.evaluate(...args);
    const value = (v as { value?: unknown }).value;
    if (typeof value === 'string' && value.length > this.limits.MAX_CHARS)
      throw limitError(`built a string of ${value.length.toLocaleString('en')} characters`);
    if (Array.isArray(value) && value.length > this.limits.MAX_ITEMS) throw limitError(`built a list of ${value.length.toLocaleString('en')} items`);
    return v;
  }
  private count(): void {
    if (++this.steps > this.limits.MAX_STEPS) throw limitError(`ran more than ${this.limits.MAX_STEPS.toLocaleString('en')} steps`);
    if ((this.steps & 1023) === 0 && performance.now() > this.deadline) throw limitError(`ran longer than ${this.limits.MAX_MS} ms`);
  }
}

/**
 * Every loop iteration costs a step, also with an empty body (`{% for i in x %}{% endfor %}` nested
 * would otherwise spin without evaluating anything): the body gets a first statement that only
 * counts. (evaluateFor is private in the typings, hence the prototype.)
 */
type ForNode = { body: unknown[] };
const baseEvaluateFor = (Interpreter.prototype as unknown as { evaluateFor: (node: ForNode, env: Environment) => unknown }).evaluateFor;
(BoundedInterpreter.prototype as unknown as { evaluateFor: (node: ForNode, env: Environment) => unknown }).evaluateFor = function (
  this: Interpreter,
  node: ForNode,
  env: Environment,
) {
  const counted = Object.assign(Object.create(Object.getPrototypeOf(node) as object) as ForNode, node, { body: [COUNT_STEP, ...node.body] });
  return baseEvaluateFor.call(this, counted, env);
};

/** The statement evaluate() only counts; NULL_VALUE is what evaluateBlock skips in the output. */
const COUNT_STEP = Object.freeze({ type: 'SparseScopeCountStep' }) as unknown as Parameters<Interpreter['evaluate']>[0];
const NULL_VALUE = { type: 'NullValue', value: null } as unknown as ReturnType<Interpreter['evaluate']>;

function boundedRange(limits: Limits) {
  return (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) [start, stop] = [0, start];
    if (step === 0) throw new Error('range() step must not be zero');
    const n = Math.max(0, Math.ceil((stop - start) / step));
    if (!Number.isFinite(n) || n > limits.MAX_ITEMS) throw limitError(`asked for range() of ${n.toLocaleString('en')} items`);
    return Array.from({ length: n }, (_, i) => start + i * step);
  };
}

function strftimeNow(format: string): string {
  const d = new Date();
  const pad2 = (n: number) => String(n).padStart(2, '0');
  return format.replace(/%[YmdbBHM%]/g, (t) => {
    switch (t) {
      case '%Y':
        return String(d.getFullYear());
      case '%m':
        return pad2(d.getMonth() + 1);
      case '%d':
        return pad2(d.getDate());
      case '%b':
        return d.toLocaleString('en', { month: 'short' });
      case '%B':
        return d.toLocaleString('en', { month: 'long' });
      case '%H':
        return pad2(d.getHours());
      case '%M':
        return pad2(d.getMinutes());
      default:
        return '%';
    }
  });
}

/**
 * Parse and render `source` with `items`, within the limits. Throws SparseScopeError 'template' for
 * a template that does not parse, raises, or runs past a limit.
 */
export function renderTemplateBounded(source: string, items: Record<string, unknown>, limits: Partial<Limits> = {}): string {
  const l: Limits = { ...TEMPLATE_LIMITS, ...limits };
  if (source.length > l.MAX_CHARS) throw limitError(`is ${source.length.toLocaleString('en')} characters long`);
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new SparseScopeError('template', `the chat template does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  // the globals Template.render sets (false/true/none, raise_exception, range, strftime_now), with range bounded
  const env = new Environment();
  const globals: Record<string, unknown> = {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (msg: unknown) => {
      throw new SparseScopeError('template', `the chat template raised an exception: ${String(msg)}`);
    },
    range: boundedRange(l),
    strftime_now: strftimeNow,
  };
  for (const [k, v] of Object.entries({ ...globals, ...items })) env.set(k, v);
  try {
    const out = new BoundedInterpreter(env, l).run(template.parsed);
    return String((out as { value: unknown }).value);
  } catch (e) {
    if (e instanceof SparseScopeError) throw e;
    // the interpreter's own errors; a RangeError is V8's stack or string limit
    throw new SparseScopeError('template', `the chat template failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
