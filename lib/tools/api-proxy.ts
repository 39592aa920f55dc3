/**
 * The API server's proxy to a Service (`kubectl get --raw .../proxy/PATH`): reaches
 * an HTTP endpoint inside the cluster with nothing but the kubeconfig. When the endpoint
 * answers an error, kubectl prints the API server's status reason and quotes the body; both
 * are read back here, so callers can show what the endpoint said.
 */
const withSlash = (path: string) => (path.startsWith('/') ? path : `/${path}`);

export function serviceProxyPath(namespace: string, service: string, port: number, path: string): string {
  return `/api/v1/namespaces/${namespace}/services/${service}:${port}/proxy${withSlash(path)}`;
}

/** The API server's status reasons, as `kubectl get --raw` prints them, back to HTTP codes. */
const REASON_STATUS: Record<string, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  Conflict: 409,
  Gone: 410,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

export interface ProxyFailure {
  /** The endpoint's HTTP status, when kubectl named a reason that maps to one. */
  status?: number;
  /** The endpoint's own body as the API server quoted it, else kubectl's last line. */
  said: string;
}

/** Reads a failed `kubectl get --raw .../proxy/...` (stderr already masked by the caller). */
export function proxyFailure(exitCode: number, stderr: string): ProxyFailure {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1] ?? `kubectl exited with ${exitCode}`;
  const reason = /Error from server \((\w+)\)/.exec(stderr)?.[1];
  const status = reason ? REASON_STATUS[reason] : undefined;
  const body = /an error on the server \("(.*)"\) has prevented the request/.exec(last)?.[1];
  return { ...(status ? { status } : {}), said: body ?? last };
}
