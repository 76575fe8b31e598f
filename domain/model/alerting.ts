import type { EgressRule, HttpChannelType } from "../schema";

/** The HTTP proxy URL per channel type, as Alertmanager's `proxy_url` takes it. */
export type ChannelProxies = Readonly<Partial<Record<HttpChannelType, string>>>;

/** "http://ADDRESS:PORT" of a proxy rule: its one /32 CIDR's address and its one port; undefined for any other shape. */
export function proxyAddress(rule: Pick<EgressRule, "cidrs" | "ports">): string | undefined {
  const [cidr, ...moreCidrs] = rule.cidrs;
  const [port, ...morePorts] = rule.ports;
  if (cidr === undefined || port === undefined || moreCidrs.length > 0 || morePorts.length > 0 || !cidr.endsWith("/32")) return undefined;
  return `http://${cidr.slice(0, -"/32".length)}:${port}`;
}

/**
 * The proxy each channel type's notifications go through: the egress rules naming the type in
 * `proxyFor` (the loader has checked each is one address, opened for the monitoring namespace,
 * and that no type is named twice).
 */
export function channelProxies(egress: readonly Pick<EgressRule, "cidrs" | "ports" | "proxyFor">[]): ChannelProxies {
  const proxies: Partial<Record<HttpChannelType, string>> = {};
  for (const rule of egress) {
    const url = proxyAddress(rule);
    if (url === undefined) continue;
    for (const type of rule.proxyFor ?? []) proxies[type] ??= url;
  }
  return proxies;
}
