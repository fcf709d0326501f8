import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { JourneyError, usageError } from '../../errors.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import type { Project } from '../../project/model.js';
import { couponCounts, importPool, issuedCodes, redemptionsByStep } from '../../store/coupons.js';
import { exportCodes, SHOPIFY_CODES_PER_REQUEST, SHOPIFY_DISCOUNT_ID, type CouponExportFormat } from '../../reports/coupon-export.js';
import { openStore } from '../../store/open.js';
import { chalk, printJson, writeOutputFile } from '../output.js';
import { readCouponCodes } from '../../store/import/coupon-codes.js';
import { projectDir } from '../project-option.js';

/**
 * `journey coupons`: codes issued, redeemed and left per coupon and per step;
 * `journey coupons export NAME`: the issued codes, for the shop system that must
 * accept them. (`journey import coupons` fills a pool: see importCoupons.)
 */
export function registerCoupons(program: Command): void {
  const coupons = program
    .command('coupons')
    .description('coupon codes issued, redeemed by orders and left in pools, per coupon and per journey step')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes: 0 listed, 1 no store, 64 usage error.')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const root = projectDir(cmd);
      const project = openProject(root);
      const db = openExisting(root);
      try {
        const counts = new Map(couponCounts(db).map((c) => [c.coupon, c]));
        const list = Object.entries(project.config.coupons).map(([name, c]) => {
          const n = counts.get(name);
          return { coupon: name, kind: c.code ? 'shared' : c.pool ? 'pool' : 'generated', discount: c.discount, issued: n?.issued ?? 0, redeemed: n?.redeemed ?? 0, free: c.pool ? (n?.free ?? 0) : null };
        });
        const steps = redemptionsByStep(db);
        if (opts.json) return printJson({ coupons: list, steps });
        const lines = list.map(
          (c) => `${chalk.bold(c.coupon)} (${c.kind}, ${c.discount}): ${c.issued} issued, ${c.redeemed} redeemed${c.issued > 0 ? ` (${((100 * c.redeemed) / c.issued).toFixed(1)}%)` : ''}${c.free !== null ? `, ${c.free} free in the pool` : ''}`,
        );
        if (list.length === 0) lines.push('no coupons in journey.config.yaml');
        if (steps.length > 0) lines.push('', 'per step:');
        for (const s of steps) lines.push(`  ${s.journey_id}/${s.step_id}  ${s.coupon}: ${s.issued} issued, ${s.redeemed} redeemed (${((100 * s.redeemed) / s.issued).toFixed(1)}%)`);
        lines.push(chalk.dim('a code is redeemed by the first counted order carrying it as its discount code (imported orders)'));
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        db.close();
      }
    });
  coupons
    .command('export')
    .description("write a coupon's issued codes for the shop system: Shopify's bulk-add requests, a Code column, or every column")
    .argument('<coupon>', 'the coupon, as named in journey.config.yaml')
    .addOption(
      new Option('--format <format>', 'csv: code, customer, journey, step, dates, redemption; codes: one Code column; shopify-graphql: discountRedeemCodeBulkAdd request bodies (JSON Lines) for Shopify\'s Admin GraphQL API')
        .choices(['csv', 'codes', 'shopify-graphql'])
        .default('csv'),
    )
    .option('--discount-id <gid>', 'shopify-graphql: the code discount the codes join, gid://shopify/DiscountCodeNode/N')
    .option('--per-request <n>', `shopify-graphql: codes a request, 1 to ${SHOPIFY_CODES_PER_REQUEST}`, String(SHOPIFY_CODES_PER_REQUEST))
    .option('--out <file>', 'write to FILE (default: stdout)')
    .addHelpText('after', '\nExit codes: 0 written, 1 an unknown coupon or no store, 64 usage error.')
    .action((name: string, opts: { format: CouponExportFormat; discountId?: string; perRequest: string; out?: string }, cmd: Command) => {
      const perRequest = Number(opts.perRequest);
      if (opts.format === 'shopify-graphql') {
        if (!opts.discountId) throw usageError('--format shopify-graphql needs --discount-id', 'the id of the code discount in Shopify, e.g. gid://shopify/DiscountCodeNode/1057371; its admin page URL ends in the number');
        if (!SHOPIFY_DISCOUNT_ID.test(opts.discountId)) throw usageError(`--discount-id ${JSON.stringify(opts.discountId.slice(0, 80))} is not a Shopify code discount id`, 'write it as gid://shopify/DiscountCodeNode/NUMBER');
        if (!Number.isInteger(perRequest) || perRequest < 1 || perRequest > SHOPIFY_CODES_PER_REQUEST) throw usageError(`--per-request must be a whole number from 1 to ${SHOPIFY_CODES_PER_REQUEST}`, 'Shopify takes at most 250 codes a request (100 in some older API versions)');
      } else if (opts.discountId !== undefined) throw usageError('--discount-id goes with --format shopify-graphql');
      const root = projectDir(cmd);
      const project = openProject(root);
      couponOf(project, name);
      const db = openExisting(root);
      let text: string;
      let count: number;
      try {
        const codes = issuedCodes(db, name);
        count = codes.length;
        text = exportCodes(opts.format, codes, { coupon: name, discountId: opts.discountId, perRequest });
      } finally {
        db.close();
      }
      if (opts.out) {
        writeOutputFile(opts.out, text, '--out');
        process.stderr.write(`${count} code${count === 1 ? '' : 's'} of ${name} written to ${opts.out}\n`);
      } else process.stdout.write(text);
    });
}

function openExisting(root: string) {
  const storePath = storePathFor(root);
  if (!existsSync(storePath)) throw new JourneyError(`no store at ${storePath}`, { hint: 'import the shop data first: journey import customers FILE' });
  return openStore(storePath);
}

function couponOf(project: Project, name: string) {
  const coupon = project.config.coupons[name];
  if (!coupon) {
    const names = Object.keys(project.config.coupons);
    throw new JourneyError(`no coupon '${name}' in journey.config.yaml`, { hint: names.length ? `coupons: ${names.join(', ')}` : 'declare it under coupons:' });
  }
  return coupon;
}

/**
 * `journey import coupons FILE --coupon NAME`: codes made elsewhere (a shop system's
 * bulk discount codes) into a pool coupon. The file: one code a line, or a CSV whose
 * `code` column (any case) holds them. A code the store has already is skipped.
 */
export async function importCoupons(root: string, file: string, name: string | undefined, json: boolean, now: number): Promise<void> {
  if (!name) throw usageError('import coupons needs --coupon NAME', 'the pool coupon of journey.config.yaml the codes are for');
  const project = openProject(root);
  const coupon = couponOf(project, name);
  if (!coupon.pool) throw new JourneyError(`coupon '${name}' does not draw from a pool`, { hint: `set pool: true on it in journey.config.yaml to give out imported codes` });
  const { codes, repeated } = await readCouponCodes(file);
  const db = openStore(storePathFor(root));
  try {
    const { added, duplicates } = importPool(db, name, codes, now);
    const free = couponCounts(db).find((c) => c.coupon === name)?.free ?? 0;
    if (json) printJson({ coupon: name, rows: codes.length + repeated, added, repeated, duplicates, free });
    else {
      const skipped = [repeated ? `${repeated} repeating a code of the file` : '', duplicates ? `${duplicates} the store had already` : ''].filter(Boolean);
      process.stdout.write(`${chalk.green('imported')} ${added} code${added === 1 ? '' : 's'} into the pool of ${name}${skipped.length ? `; skipped ${skipped.join(' and ')} (a code is the same in any case)` : ''}; ${free} free\n`);
    }
  } finally {
    db.close();
  }
}

