import { warning, type PendingDiagnostic } from '../diagnostic.js';
import type { Config } from '../model.js';
import type { CheckContext, Finding } from './types.js';

/** The same references the providers resolve (src/delivery/providers/settings.ts). */
const ENV_REF = /\$\{([A-Z_][A-Z0-9_]*)\}/g;

export interface UnsetEnvRef {
  readonly provider: string;
  /** Where in journey.config.yaml: providers, <name>, <setting>, ... */
  readonly path: (string | number)[];
  readonly variable: string;
}

/**
 * The `${VAR}` references in provider settings whose variable is unset or empty: the
 * provider will refuse to start at delivery time, so validate and plan say so now.
 * Only the variable's name is ever reported, never a value.
 */
export function unsetEnvRefs(config: Config, env: NodeJS.ProcessEnv): UnsetEnvRef[] {
  const out: UnsetEnvRef[] = [];
  const walk = (provider: string, value: unknown, path: (string | number)[]) => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(ENV_REF)) {
        const variable = m[1]!;
        if ((env[variable] ?? '') === '' && !out.some((u) => u.provider === provider && u.variable === variable)) out.push({ provider, path, variable });
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(provider, v, [...path, i]));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(provider, v, [...path, k]);
  };
  for (const [name, provider] of Object.entries(config.providers)) walk(name, provider.settings, ['providers', name]);
  return out;
}

/** The one line plan prints for an unset reference (validate prints it as a located warning). */
export function describeUnsetEnvRef(u: UnsetEnvRef): string {
  return `provider '${u.provider}' reads \${${u.variable}}, and ${u.variable} is not set`;
}

export const UNSET_ENV_HINT = 'set the variable in the environment that runs journey run / outbox send; until then that provider sends nothing';

export function checkEnvRefs(ctx: CheckContext, env: NodeJS.ProcessEnv = process.env): Finding[] {
  const config = ctx.project.config;
  if (!config.file || !ctx.configUsable) return [];
  return unsetEnvRefs(config, env).map((u): Finding => {
    const diagnostic: PendingDiagnostic = warning('unset-env', u.path, describeUnsetEnvRef(u), UNSET_ENV_HINT);
    return { file: config.file!, diagnostic };
  });
}
