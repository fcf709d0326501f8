import { warning, type PendingDiagnostic } from '../diagnostic.js';
import type { Config } from '../model.js';
import type { CheckContext, Finding } from './types.js';

/** The same references the providers resolve (src/delivery/providers/settings.ts). */
const ENV_REF = /\$\{([A-Z_][A-Z0-9_]*)\}/g;

export interface UnsetEnvRef {
  /** What reads it: provider 'sendgrid', links.secret. */
  readonly reader: string;
  /** Where in journey.config.yaml: providers, <name>, <setting>, ... */
  readonly path: (string | number)[];
  readonly variable: string;
  /** What it stops, and what to do. */
  readonly hint: string;
}

export const UNSET_ENV_HINT = 'set the variable in the environment that runs journey run / outbox send; until then that provider sends nothing';
const LINK_SECRET_HINT = 'set it where journey run, preview and send-test run: the unsubscribe and preference links are signed with it, and until then no message is rendered';

/**
 * The `${VAR}` references whose variable is unset or empty: in provider settings (the
 * provider will refuse to start at delivery time) and links.secret (the tick cannot
 * render a message), so validate and plan say so now. Only the variable's name is
 * ever reported, never a value.
 */
export function unsetEnvRefs(config: Config, env: NodeJS.ProcessEnv): UnsetEnvRef[] {
  const out: UnsetEnvRef[] = [];
  const walk = (reader: string, hint: string, value: unknown, path: (string | number)[]) => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(ENV_REF)) {
        const variable = m[1]!;
        if ((env[variable] ?? '') === '' && !out.some((u) => u.reader === reader && u.variable === variable)) out.push({ reader, path, variable, hint });
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(reader, hint, v, [...path, i]));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(reader, hint, v, [...path, k]);
  };
  for (const [name, provider] of Object.entries(config.providers)) walk(`provider '${name}'`, UNSET_ENV_HINT, provider.settings, ['providers', name]);
  if (config.links) walk('links.secret', LINK_SECRET_HINT, config.links.secret, ['links', 'secret']);
  return out;
}

/** The one line plan prints for an unset reference (validate prints it as a located warning). */
export function describeUnsetEnvRef(u: UnsetEnvRef): string {
  return `${u.reader} reads \${${u.variable}}, and ${u.variable} is not set`;
}

export function checkEnvRefs(ctx: CheckContext, env: NodeJS.ProcessEnv = process.env): Finding[] {
  const config = ctx.project.config;
  if (!config.file || !ctx.configUsable) return [];
  return unsetEnvRefs(config, env).map((u): Finding => {
    const diagnostic: PendingDiagnostic = warning('unset-env', u.path, describeUnsetEnvRef(u), u.hint);
    return { file: config.file!, diagnostic };
  });
}
