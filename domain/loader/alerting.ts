import { HTTP_CHANNEL_TYPES, type EgressRule, type HttpChannelType } from "../schema";
import type { Registries } from "./checks";
import type { Locator } from "./locator";
import { proxyAddress } from "../model/alerting";

/**
 * How Alertmanager's notifications leave the cluster: through the egress proxy a rule of the
 * security registry declares for their channel type, else straight to the channel's endpoint.
 * Under default-deny either way must be an egress the security registry allows for the
 * monitoring namespace, or no alert arrives anywhere and nothing says so until one is missed.
 */
export function checkAlertDelivery(r: Registries, at: Locator): void {
  const namespace = r.monitoring.stack.namespace;
  const egress = r.security.network.egress;
  const appliesHere = (rule: EgressRule) => rule.namespaces.length === 0 || rule.namespaces.includes(namespace);
  const proxied = new Map<HttpChannelType, string>();
  egress.forEach((rule, i) => {
    if (rule.proxyFor === undefined) return;
    const where = ["network", "egress", i, "proxyFor"];
    if (proxyAddress(rule) === undefined) {
      at.report(
        "security",
        where,
        `a proxy is one address: the rule must name one /32 CIDR and one port, the proxy's (it names ${rule.cidrs.join(", ")} on port${rule.ports.length > 1 ? "s" : ""} ${rule.ports.join(", ")})`,
        "proxy-address",
      );
    }
    if (!appliesHere(rule)) {
      at.report(
        "security",
        where,
        `Alertmanager runs in namespace "${namespace}" (monitoring.yaml stack.namespace), which this rule does not open: add it to the rule's namespaces`,
        "proxy-namespace",
      );
    }
    for (const type of rule.proxyFor) {
      const other = proxied.get(type);
      if (other !== undefined) {
        at.report(
          "security",
          where,
          `${type} notifications already go through the proxy of egress rule "${other}": name each channel type in one rule`,
          "proxy-twice",
        );
      }
      proxied.set(type, rule.name);
    }
  });
  if (!r.security.network.defaultDeny) return;
  // A destination written as an address can be checked against the rules; a host name resolves
  // only at run time, so it cannot.
  r.monitoring.channels.forEach((c, i) => {
    const target =
      c.type === "pagerduty" && c.url !== undefined
        ? { field: "url", ...urlAddress(c.url) }
        : c.type === "email"
          ? { field: "smarthost", ...hostPort(c.smarthost) }
          : undefined;
    if (target === undefined || (isHttpType(c.type) && proxied.has(c.type))) return;
    const ip = ipv4(target.host);
    if (ip === undefined) return;
    const allowed = egress.some((rule) => appliesHere(rule) && rule.ports.includes(target.port) && rule.cidrs.some((cidr) => cidrContains(cidr, ip)));
    if (!allowed) {
      at.report(
        "monitoring",
        ["channels", i, target.field],
        `Alertmanager (namespace "${namespace}") cannot reach ${target.host}:${target.port} under default-deny: no network.egress rule of security.yaml allows it; add one for that address and port`,
        "channel-egress",
      );
    }
  });
}

function isHttpType(type: string): type is HttpChannelType {
  return (HTTP_CHANNEL_TYPES as readonly string[]).includes(type);
}

function urlAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port !== "" ? Number(u.port) : u.protocol === "https:" ? 443 : 80 };
}

function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

function ipv4(host: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.some((o) => o > 255) ? undefined : octets.reduce((n, o) => n * 256 + o, 0);
}

function cidrContains(cidr: string, ip: number): boolean {
  const [address, bits] = cidr.split("/");
  const base = ipv4(address!);
  const size = 2 ** (32 - Number(bits));
  return base !== undefined && Math.floor(base / size) === Math.floor(ip / size);
}
