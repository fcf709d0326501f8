/**
 * The content of a send step, filled for all the enrolments it sends to at once, in
 * the step's transaction: coupon codes issued (store/coupons.ts), recommendations
 * computed (store/recommendations.ts), the variables read in one query
 * (store/message-context.ts), each message rendered (content/render.ts), and the rows
 * written back. A message that cannot render is failed with the template's error,
 * never sent with a gap.
 */
import { messageJob, renderRows, type RenderedRows } from '../content/messages.js';
import { portableTemplate, TemplateSet } from '../content/render.js';
import { renderThreads } from '../content/render-thread.js';
import { JourneyError } from '../errors.js';
import type { Config, Journey, Project, Step } from '../project/model.js';
import { DEFAULT_ALPHABET, DEFAULT_LENGTH, issueCoupons } from '../store/coupons.js';
import type { StoreDb } from '../store/db.js';
import type { IdSet } from '../store/enrolments.js';
import { failMessages, recommendedProducts, stepMessages, writeContent, type MessageContextRow, type ProductRow } from '../store/message-context.js';
import { recommendInThreads, recommendThreads } from '../store/recommend-thread.js';
import { recommendationTargets, recommendFor, type RecommendationSpec } from '../store/recommendations.js';
import { approxMs } from '../project/duration.js';

const templateSets = new WeakMap<Config, TemplateSet>();

export function templatesOf(config: Config): TemplateSet {
  let set = templateSets.get(config);
  if (!set) templateSets.set(config, (set = new TemplateSet(config)));
  return set;
}

/** The link secret from its ${ENV} reference. */
export function linkSecret(config: Config, env: NodeJS.ProcessEnv = process.env): string | null {
  if (!config.links) return null;
  const name = /^\$\{([A-Z_][A-Z0-9_]*)\}$/.exec(config.links.secret)?.[1];
  const value = name ? env[name] : undefined;
  if (!value) {
    throw new JourneyError(`links.secret: the environment variable ${name ?? config.links.secret} is not set`, {
      hint: 'templates show signed unsubscribe and preference links; set the secret the shop checks them with',
    });
  }
  return value;
}

/** Issues the step's coupon codes; returns the enrolments left without one (the pool is empty). */
export function issueStepCoupons(db: StoreDb, project: Project, journey: Journey, step: Extract<Step, { kind: 'send' }>, set: IdSet, now: number): IdSet | null {
  const coupon = step.coupon ? project.config.coupons[step.coupon] : undefined;
  if (!coupon || coupon.code) return null;
  return issueCoupons(db, set, {
    coupon: step.coupon!,
    source: coupon.pool ? 'pool' : 'generated',
    prefix: coupon.prefix,
    length: coupon.length ?? DEFAULT_LENGTH,
    alphabet: coupon.alphabet ?? DEFAULT_ALPHABET,
    validFor: coupon.validFor ? { amount: coupon.validFor.amount, unit: coupon.validFor.unit } : null,
    journeyId: journey.id,
    stepId: step.id,
    now,
  });
}

/** Rows a part: small enough that rendering one overlaps reading the next, large enough that each query's cost is spread. */
const PART = 2_000;
/** Below this many messages the threads cost more (starting them, posting rows) than they save. */
const THREAD_MIN = 2 * PART;
/**
 * The most parts read ahead while the recommendations are computed: ~1.5 KB of memory a
 * message held (1M shop: 147 MB for 100,000), so a step to a million customers, whose
 * recommendations take longer than reading all of its messages, would otherwise hold
 * them all (1.5 GB) before rendering the first.
 */
const READ_AHEAD = 100;

/** Recommendations being computed on their threads (store/recommend-thread.ts) while the tick does other work. */
export type StartedRecommendations = ReturnType<typeof recommendInThreads>;

function recommendationSpec(config: Config, step: Extract<Step, { kind: 'send' }>): RecommendationSpec | null {
  const r = step.recommendations;
  return r
    ? { strategy: r.strategy, count: r.count, withinMs: r.within ? approxMs(r.within) : null, category: r.category, excludePurchased: r.excludePurchased, fallback: r.fallback, categoryMap: config.categoryMap }
    : null;
}

/**
 * Starts a large step's recommendations on their threads before its coupons are issued
 * and its outbox rows written, so that they overlap (1M shop, 100,000 messages: those
 * took ~0.9 s on the tick's thread, and the recommendations are the longest piece of a
 * step's content). `size`: how many enrolments the step sends to. Null where fillContent
 * computes them itself: no recommendations, a small step, or no threads.
 */
export function startRecommendations(db: StoreDb, project: Project, step: Extract<Step, { kind: 'send' }>, set: IdSet, size: number, now: number): StartedRecommendations | null {
  const spec = recommendationSpec(project.config, step);
  return spec && size >= THREAD_MIN && renderThreads() ? recommendApart(db, set, spec, now) : null;
}

/** The recommendations computed on their threads' own connections, or null where there are none (a store in memory, the sources run by tests). */
function recommendApart(db: StoreDb, set: IdSet, spec: RecommendationSpec, now: number): StartedRecommendations | null {
  const threads = recommendThreads(db.path);
  return threads.length > 0 ? recommendInThreads(threads, { targets: recommendationTargets(db, set), spec, now }) : null;
}

export interface FillOptions {
  testCopy?: boolean;
  /**
   * Render in the render threads (content/render-thread.ts), and compute the
   * recommendations in threads of their own (store/recommend-thread.ts): by default when
   * there are THREAD_MIN messages or more. Tests force either.
   */
  thread?: boolean;
  /** Rows a part (tests: several parts from a few messages). */
  part?: number;
  /** The most parts read ahead while the recommendations are computed apart (READ_AHEAD; tests: fewer). */
  readAhead?: number;
  /** The step's recommendations, started before (startRecommendations) for a set that holds `set`. */
  recommendations?: StartedRecommendations | null;
}

/** Renders the step's new outbox rows. Returns how many could not be rendered (failed, with the reason). */
export function fillContent(db: StoreDb, project: Project, journey: Journey, step: Extract<Step, { kind: 'send' }>, set: IdSet, now: number, opts: FillOptions = {}): number {
  const config = project.config;
  const template = templatesOf(config).get(step.template) ?? null;
  const secret = linkSecret(config);
  const messages = stepMessages(db, set, { journeyId: journey.id, stepId: step.id, now, coupon: step.coupon });
  const part = opts.part ?? PART;
  const threads = (opts.thread ?? messages.count >= THREAD_MIN) ? renderThreads() : null;
  const spec = recommendationSpec(config, step);
  // a large step's recommendations are computed on connections of their own while this
  // one reads the messages (store/recommend-thread.ts); otherwise here, into a table the
  // messages' query reads
  const apart = opts.recommendations ?? (spec && threads ? recommendApart(db, set, spec, now) : null);
  let recs: string | null = null;
  let products: Map<string, ProductRow> | null = null;
  if (!apart && spec) {
    recs = recommendFor(db, set, spec, now, 'tick_recs');
    products = recommendedProducts(db, recs);
  }
  let from = 0;
  const readPart = () => {
    const rows = messages.read(from, part, recs);
    from += part;
    return rows;
  };
  const read: MessageContextRow[][] = [];
  let lists: Map<number, string> | null = null;
  if (apart) {
    const most = opts.readAhead ?? READ_AHEAD;
    while (read.length < most && from < messages.count && !apart.ready()) read.push(readPart());
    ({ lists, products } = apart.take());
  }
  /** The next part, with its products when they were computed apart (an enrolment without any has an empty list, as the query gives it). */
  const nextPart = () => {
    const rows = read.shift() ?? readPart();
    if (lists) for (const row of rows) row.products = lists.get(row.enrolment_id) ?? '[]';
    return rows;
  };
  const more = () => read.length > 0 || from < messages.count;
  const job = messageJob(config, journey, step, template && portableTemplate(template), secret, opts.testCopy === true, now, products);
  let failed = 0;
  const write = (rendered: RenderedRows) => {
    writeContent(db, rendered.written);
    failMessages(db, rendered.failed);
    failed += rendered.failed.length;
  };
  if (threads) {
    // the threads render parts while this one reads the next and writes those rendered, in order
    threads.job(job);
    const pending: number[] = [];
    const submit = () => {
      // one part more than there are threads: each has the next part waiting when it finishes one
      while (more() && pending.length <= threads.size) pending.push(threads.submit(nextPart()));
    };
    submit();
    while (pending.length > 0) {
      const rendered = threads.take(pending.shift()!);
      submit();
      write(rendered);
    }
  } else {
    while (more()) write(renderRows(job, template, nextPart()));
  }
  messages.done();
  if (recs) db.exec(`DROP TABLE IF EXISTS temp.${recs}`);
  return failed;
}
