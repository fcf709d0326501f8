import { warning, type PendingDiagnostic, type YamlPath } from '../diagnostic.js';
import type { Journey, Step, TestMode } from '../model.js';
import { buildStepGraph } from '../step-graph.js';
import { testModeOf } from '../test-mode.js';
import type { CheckContext, Finding } from './types.js';

/**
 * A journey in test mode sends nothing on a channel without test addresses and
 * syncs nothing to a provider without a test profile: said where the step is, so
 * that a test run's silence on SMS or Klaviyo is no surprise. Also test_recipients.sync
 * naming a provider that is not declared.
 */
export function checkTestMode(ctx: CheckContext): Finding[] {
  if (!ctx.configUsable) return [];
  const out: Finding[] = [];
  const config = ctx.project.config;
  if (config.file && config.testRecipients) {
    for (const d of unknownSyncProviders(config.testRecipients, ctx)) out.push({ file: config.file, diagnostic: d });
  }
  for (const journey of ctx.project.journeys) {
    if (journey.testRecipients) for (const d of unknownSyncProviders(journey.testRecipients, ctx)) out.push({ file: journey.file, diagnostic: d });
    for (const d of untargeted(journey, ctx)) out.push({ file: journey.file, diagnostic: d });
  }
  return out;
}

function untargeted(journey: Journey, ctx: CheckContext): PendingDiagnostic[] {
  const mode = testModeOf(journey, ctx.project.config);
  if (!mode) return [];
  const where = journey.testRecipients ? "this journey's test_recipients" : 'test_recipients in journey.config.yaml';
  const out: PendingDiagnostic[] = [];
  const graph = buildStepGraph(journey);
  for (const step of graph.nodes.values()) out.push(...stepWarning(step.step, mode, where));
  return out;
}

function stepWarning(step: Step, mode: TestMode, where: string): PendingDiagnostic[] {
  if (step.kind === 'send' && !mode.recipients[step.channel]) {
    return [
      warning(
        'test-mode-untargeted',
        [...step.path, 'send', 'channel'],
        `the journey is in test mode and ${where} has no '${step.channel}' addresses: step '${step.id}' sends nothing`,
        `add ${step.channel}: [a test address] to ${where} to see it`,
      ),
    ];
  }
  if (step.kind === 'sync' && !mode.sync[step.provider]) {
    return [
      warning(
        'test-mode-untargeted',
        [...step.path, 'sync', 'provider'],
        `the journey is in test mode and ${where} names no test profile for '${step.provider}': step '${step.id}' syncs nothing`,
        `add sync: { ${step.provider}: <a test profile's e-mail or id> } to ${where} to see it`,
      ),
    ];
  }
  return [];
}

function unknownSyncProviders(mode: TestMode, ctx: CheckContext): PendingDiagnostic[] {
  const known = Object.keys(ctx.project.config.providers);
  return Object.keys(mode.sync)
    .filter((p) => !ctx.project.config.providers[p])
    .map((p) => {
      const path: YamlPath = ['test_recipients', 'sync', p];
      return warning('unknown-provider', path, `test_recipients.sync names provider '${p}', which journey.config.yaml does not declare`, known.length ? `declared providers: ${known.join(', ')}` : undefined, 'key');
    });
}
