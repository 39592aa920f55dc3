/**
 * The string formats the config accepts, each as a zod schema with a message that says what
 * a valid value looks like. Kept apart from the config's shape so both stay readable.
 */
import { z } from 'zod';
import { exactUnits, parseQuantity } from './quantity.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters (a DNS-1123 label)')
  .regex(
    DNS1123_LABEL,
    'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit (e.g. "demon-system")',
  );

export const dnsSubdomain = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(
    DNS1123_SUBDOMAIN,
    'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and "." (e.g. "demon.example.com")',
  );

export const port = z
  .int()
  .min(1, 'must be a port between 1 and 65535')
  .max(65535, 'must be a port between 1 and 65535');

const DURATION = /^(\d+(ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const duration = z
  .string()
  .regex(DURATION, 'must be a duration such as "240s", "5m" or "1h30m" (units: ms, s, m, h)');

/** Milliseconds in a duration string already validated by `duration`. */
export function parseDuration(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/** A duration within [min, max]: timers and kubectl flags get a number they can hold. */
export function durationWithin(min: string, max: string) {
  const [low, high] = [parseDuration(min), parseDuration(max)];
  return duration
    .refine((text) => parseDuration(text) >= low, `must be at least ${min}`)
    .refine((text) => parseDuration(text) <= high, `must be at most ${max}`);
}

/** Prometheus' own duration syntax (it also takes days, weeks and years). */
export const promDuration = z
  .string()
  .regex(
    /^(\d+(ms|s|m|h|d|w|y))+$/,
    'must be a Prometheus duration such as "15d" or "12h" (units: ms, s, m, h, d, w, y)',
  );

// Kubernetes resource.Quantity: a decimal number with an optional SI or binary suffix.
export const quantity = z
  .string()
  .refine(
    (text) => parseQuantity(text) !== undefined,
    'must be a Kubernetes quantity such as "500m", "128Mi" or "10Gi"',
  );

/** A size in whole bytes (NATS store limits are plain byte counts), within bounds. */
export function bytes(min: string, max: string) {
  const [low, high] = [exactUnits(min)!, exactUnits(max)!];
  return z
    .string()
    .refine(
      (text) => exactUnits(text) !== undefined,
      'must be a whole number of bytes as a Kubernetes quantity, such as "256Mi" or "1Gi" (not "500m" or a fraction)',
    )
    .refine((text) => (exactUnits(text) ?? low) >= low, `must be at least ${min}`)
    .refine((text) => (exactUnits(text) ?? high) <= high, `must be at most ${max}`);
}

// docker/distribution reference grammar: [domain[:port]/]path[:tag][@digest]
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
const IMAGE_REFERENCE = new RegExp(`^${NAME}(?::${TAG})?(?:@sha256:[a-f0-9]{64})?$`);
/** An image repository without tag or digest (e.g. ghcr.io/afewell-hh/demon-runtime). */
export const IMAGE_REPOSITORY = new RegExp(`^${NAME}$`);

export const imageReference = z
  .string()
  .max(255, 'image references are at most 255 characters')
  .regex(
    IMAGE_REFERENCE,
    'must be an image reference such as "ghcr.io/org/name:tag" or "name@sha256:<64 hex>" (lowercase repository, no scheme)',
  );

export const envVarName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'must be an environment variable name (letters, digits and "_", not starting with a digit)',
  );

export const secretKey = z
  .string()
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'must be a valid Secret data key: letters, digits, "-", "_" and "."')
  .refine((key) => key !== '.' && key !== '..', 'must not be "." or ".." (Kubernetes refuses them as keys)');

/** Service names are DNS-1035 labels: a letter first (Kubernetes before 1.34 refuses "9lives"). */
export const serviceName = dnsLabel.regex(
  /^[a-z]/,
  'must start with a letter: it names a Service, and Service names are DNS-1035 labels',
);

/** An Ingress host: a DNS subdomain, optionally with a leading "*." wildcard label. */
export const ingressHost = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(
    /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a host name such as "demon.example.com" or "*.example.com"',
  );

/** A Linux user id Kubernetes accepts for runAsUser (a non-negative int32), not root. */
export const userId = z
  .int()
  .min(1, 'must be a non-root user id (1 or more)')
  .max(2147483647, 'must be at most 2147483647 (Kubernetes takes an int32)');

export const httpPath = z.string().regex(/^\/[^\s]*$/, 'must be an HTTP path starting with "/" (e.g. "/health")');

/**
 * Where a registry lives, as written in a docker config's `auths`: `ghcr.io`,
 * `127.0.0.1:5001`, or Docker Hub's historical `https://index.docker.io/v1/`.
 */
export const registryServer = z
  .string()
  .regex(
    new RegExp(`^(?:https?://)?${DOMAIN}(?:/[\\w./-]*)?$`),
    'must be a registry host such as "ghcr.io", "127.0.0.1:5001" or "https://index.docker.io/v1/"',
  );
