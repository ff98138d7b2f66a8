/**
 * What one environment setting is: its name, default, description, whether it is sensitive, and how a
 * raw string becomes a typed value. The kinds below are the only parsers of environment values.
 *
 * Invariant: a parser reports what is wrong without the value; `read` alone decides whether to quote
 * the value back, and never does for a sensitive setting.
 */
import { ConfigError } from './config-error.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const SETTING_GROUPS = {
  server: 'Server',
  storage: 'PostgreSQL and Redis',
  keys: 'API keys',
  edge: 'Edge (before authentication)',
  prompt: 'Request shape and prompt processing',
  quota: 'Limits and budgets',
  routing: 'Routing',
  scheduling: 'Admission and queues',
  upstream: 'Dispatch and upstream HTTP',
  fleet: 'Pods: discovery and health',
} as const;
export type SettingGroup = keyof typeof SETTING_GROUPS;

export interface Setting<T = unknown> {
  /** The environment variable, SWITCHYARD_… */
  readonly name: string;
  readonly group: SettingGroup;
  /** One line for the README table (what it does, what 0 or empty means). */
  readonly description: string;
  /** A secret or a value that may embed one (a URL with a password): never quoted back, never logged. */
  readonly sensitive: boolean;
  /** Must be set (no default). */
  readonly required: boolean;
  /** The default as the README shows it ('' when there is none). */
  readonly shownDefault: string;
  /** The accepted values as the README shows them. */
  readonly accepts: string;
  /** The typed value from the environment: the default when unset (or empty), else the parsed value. */
  read(env: Env): T;
}

/** A parser's complaint: what is wrong, phrased to follow the setting's name, without the value. */
class Invalid extends Error {}

interface Common {
  name: string;
  group: SettingGroup;
  description: string;
  sensitive?: boolean;
  /** Shown in the README instead of the default value (e.g. a computed default). */
  shownDefault?: string;
}

interface Checked {
  /**
   * Start-up needs it, but the loader checks that rather than `read` (SWITCHYARD_CONFIG_FILE: code may
   * hand the loader a catalogue instead).
   */
  requiredByLoader?: boolean;
}

interface Definition<T> extends Common, Checked {
  accepts: string;
  /** An empty string is a value (parsed), not "unset". */
  emptyIsValue?: boolean;
  /** The value when unset; `required` when there is none. */
  fallback: { value: T } | { required: string };
  parse(raw: string): T;
}

function define<T>(d: Definition<T>): Setting<T> {
  const sensitive = d.sensitive ?? false;
  const required = 'required' in d.fallback || d.requiredByLoader === true;
  return {
    name: d.name,
    group: d.group,
    description: d.description,
    sensitive,
    required,
    shownDefault: d.shownDefault ?? ('value' in d.fallback && d.fallback.value !== undefined ? String(d.fallback.value) : ''),
    accepts: d.accepts,
    read(env: Env): T {
      const raw = env[d.name];
      if (raw === undefined || (raw === '' && !d.emptyIsValue)) {
        if ('value' in d.fallback) return d.fallback.value;
        throw new ConfigError(`${d.name} ${d.fallback.required}`, d.name);
      }
      try {
        return d.parse(raw);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        throw new ConfigError(`${d.name} ${err.message}${sensitive ? '' : `, got "${raw}"`}`, d.name);
      }
    },
  };
}

function parseInt(raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Invalid(`must be an integer between ${min} and ${max}`);
  return value;
}

/** An integer within [min, max]. */
export function int(s: Common & { default: number; min: number; max: number }): Setting<number> {
  return define({ ...s, accepts: `${s.min}–${s.max}`, fallback: { value: s.default }, parse: (raw) => parseInt(raw, s.min, s.max) });
}

/** An integer within [min, max], or undefined when unset (the loader computes the default). */
export function optionalInt(s: Common & { min: number; max: number; shownDefault: string }): Setting<number | undefined> {
  return define<number | undefined>({ ...s, accepts: `${s.min}–${s.max}`, fallback: { value: undefined }, parse: (raw) => parseInt(raw, s.min, s.max) });
}

/** One of a fixed list of words. */
export function oneOf<const T extends string>(s: Common & { default: T; values: readonly T[] }): Setting<T> {
  return define({
    ...s,
    accepts: s.values.join(', '),
    fallback: { value: s.default },
    parse: (raw) => {
      if (!s.values.includes(raw as T)) throw new Invalid(`must be one of ${s.values.join(', ')}`);
      return raw as T;
    },
  });
}

/** `true` or `false`. */
export function flag(s: Common & { default: boolean }): Setting<boolean> {
  const word = oneOf({ ...s, default: s.default ? 'true' : 'false', values: ['true', 'false'] });
  return { ...word, read: (env) => word.read(env) === 'true' };
}

/** A comma-separated list of words from a fixed list; empty means an empty list. */
export function listOf<const T extends string>(s: Common & { default: readonly T[]; values: readonly T[] }): Setting<T[]> {
  return define({
    ...s,
    accepts: `comma-separated ${s.values.join(', ')}; empty = none`,
    shownDefault: s.shownDefault ?? s.default.join(','),
    emptyIsValue: true,
    fallback: { value: [...s.default] },
    parse: (raw) => {
      const items = raw.split(',').map((t) => t.trim()).filter(Boolean);
      if (items.some((item) => !s.values.includes(item as T))) throw new Invalid(`must be a comma-separated list of ${s.values.join(', ')}`);
      return items as T[];
    },
  });
}

/** A host name, or `*.` + a domain (any host under it): letters, digits, hyphens, dots. */
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** A comma-separated list of host names (`*.example.com` for every host under a domain), lower-cased; empty by default. */
export function hostList(s: Common): Setting<string[]> {
  return define({
    ...s,
    accepts: 'comma-separated host names or *.domain patterns; empty = none',
    shownDefault: s.shownDefault ?? 'none (empty list)',
    emptyIsValue: true,
    fallback: { value: [] },
    parse: (raw) => {
      const hosts = raw.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
      if (hosts.some((h) => !HOST_PATTERN.test(h))) throw new Invalid('must be a comma-separated list of host names or *.domain patterns');
      return hosts;
    },
  });
}

/** A URL with one of the given protocols ('postgresql:', …). Sensitive by default: URLs carry passwords. */
export function url(s: Common & { default: string; protocols: readonly string[] }): Setting<string> {
  return define({
    ...s,
    sensitive: s.sensitive ?? true,
    accepts: `${s.protocols.map((p) => `${p}//…`).join(', ')} URL`,
    fallback: { value: s.default },
    parse: (raw) => {
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new Invalid('is not a valid URL');
      }
      if (!s.protocols.includes(parsed.protocol)) throw new Invalid(`must use ${s.protocols.join(' or ')}, got "${parsed.protocol}"`);
      return raw;
    },
  });
}

/** Free text (a host name, a file path); undefined when unset and there is no default. */
export function text(s: Common & { default: string; accepts: string }): Setting<string>;
export function text(s: Common & Checked & { default?: undefined; accepts: string }): Setting<string | undefined>;
export function text(s: Common & Checked & { default?: string; accepts: string }): Setting<string | undefined> {
  return define<string | undefined>({ ...s, fallback: { value: s.default }, parse: (raw) => raw });
}

/**
 * A secret: never quoted back in any message. `format` checks its shape (`formatHint` says it in words);
 * a required secret with no value fails with the same hint.
 */
export function secret(s: Common & { required: true; minLength: number; formatHint: string }): Setting<string>;
export function secret(s: Common & { required?: false; format: RegExp; formatHint: string }): Setting<string | undefined>;
export function secret(s: Common & { required?: boolean; minLength?: number; format?: RegExp; formatHint: string }): Setting<string | undefined> {
  return define<string | undefined>({
    ...s,
    sensitive: true,
    accepts: s.formatHint,
    fallback: s.required ? { required: `must be set to ${s.formatHint}` } : { value: undefined },
    parse: (raw) => {
      if ((s.minLength !== undefined && raw.length < s.minLength) || (s.format && !s.format.test(raw))) {
        throw new Invalid(s.required ? `must be set to ${s.formatHint}` : `must be ${s.formatHint}`);
      }
      return raw;
    },
  });
}
