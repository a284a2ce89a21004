/**
 * The CLI's reads from a broker's HTTP API (docs/http.md), for what the wire protocol does not
 * carry: topic configs and per-replica offsets. A broker serves HTTP on the same port as its
 * WebSocket, so a `ws://host:port` URL names both.
 */

/** How long one HTTP read may take before the command gives up on that broker. */
const HTTP_TIMEOUT_MS = 10_000;

/** The HTTP base URL (`http://host:port`) of the broker at a `ws://` or `wss://` URL. */
export function httpBaseOf(brokerUrl: string): string {
  const url = new URL(brokerUrl);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`${brokerUrl} is not a ws:// or wss:// URL`);
  return `${url.protocol === 'wss:' ? 'https' : 'http'}://${url.host}`;
}

/** The HTTP base URL of a broker as Metadata lists it. */
export function httpBaseOfBroker(broker: { readonly host: string; readonly port: number }): string {
  const host = broker.host.includes(':') ? `[${broker.host}]` : broker.host;
  return `http://${host}:${broker.port}`;
}

/** GETs `path` from `base` and parses the JSON answer; an error status throws with the broker's message. */
export async function getJson(base: string, path: string): Promise<unknown> {
  const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const body = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`GET ${base}${path}: HTTP ${response.status}, not JSON`);
  }
  if (!response.ok) {
    const { error, message } = json as { error?: string; message?: string };
    throw new Error(`GET ${base}${path}: HTTP ${response.status} ${error ?? ''}${message === undefined ? '' : `: ${message}`}`);
  }
  return json;
}
