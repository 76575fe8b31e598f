/**
 * A local stand-in for Slack, PagerDuty, generic webhooks and the SMTP relay, for tests: it
 * records every notification Alertmanager sends and lets a test wait for one alert by name,
 * status and labels, whatever channel type carried it.
 *
 * In dev the monitoring and security registries point Alertmanager's channels at this receiver
 * on the local cluster's bridge address (ALERT_RECEIVER): the PagerDuty events URL and the SMTP
 * smarthost are dev overrides of the channels, and the Slack and webhook URLs are stack secrets a
 * test sets to `http://10.244.0.1:9097/...`. Unit tests bind 127.0.0.1 on free ports instead.
 *
 * The receiver closes by itself when the test (or, started in a beforeAll, the file) that
 * started it ends.
 */
import * as http from "node:http";
import * as net from "node:net";
import { afterAll, onTestFinished } from "vitest";

/** Where dev's channels point (registries/monitoring.yaml and security.yaml, dev overrides). */
export const ALERT_RECEIVER = { host: "10.244.0.1", httpPort: 9097, smtpPort: 2525 } as const;

export type AlertStatus = "firing" | "resolved";
export type Carrier = "slack" | "pagerduty" | "webhook" | "email";

/** One request or message as it arrived. */
export interface Delivery {
  protocol: "http" | "smtp";
  /** The HTTP path, or "smtp". */
  path: string;
  /** The parsed JSON body; for an e-mail its envelope, subject and plain-text part. */
  body: unknown;
}

export interface Email {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** One alert read out of a notification. */
export interface ReceivedAlert {
  via: Carrier;
  path: string;
  name: string;
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface AlertMatch {
  name: string;
  status: AlertStatus;
  /** Labels the alert must carry with these values; others may be there too. */
  labels?: Record<string, string>;
  via?: Carrier;
}

export interface AlertReceiver {
  /** "http://HOST:PORT", the base of the Slack, PagerDuty and webhook URLs. */
  readonly url: string;
  /** "HOST:PORT" of the SMTP side, an e-mail channel's smarthost. */
  readonly smarthost: string;
  readonly deliveries: readonly Delivery[];
  /** Every alert read from the deliveries so far, in arrival order. */
  alerts(): ReceivedAlert[];
  /** Resolves with the first alert that matches, already received or still to come. */
  waitForAlert(match: AlertMatch): Promise<ReceivedAlert>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  host?: string;
  /** 0 picks a free port. */
  httpPort?: number;
  smtpPort?: number;
}

export async function startAlertReceiver(options: ReceiverOptions = {}): Promise<AlertReceiver> {
  const host = options.host ?? ALERT_RECEIVER.host;
  const deliveries: Delivery[] = [];
  const waiters = new Set<{ match: AlertMatch; resolve: (a: ReceivedAlert) => void; reject: (e: Error) => void }>();
  const record = (delivery: Delivery) => {
    deliveries.push(delivery);
    for (const alert of alertsOf(delivery)) {
      for (const w of [...waiters]) {
        if (!matches(alert, w.match)) continue;
        waiters.delete(w);
        w.resolve(alert);
      }
    }
  };

  const httpServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST") {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Kept as text: a test can still see what arrived.
        }
        record({ protocol: "http", path: req.url ?? "/", body });
      }
      // Slack (Alertmanager 0.28 checks it) answers a plain "ok"; the others read the status only.
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  const smtpServer = net.createServer((socket) => smtpSession(socket, (email) => record({ protocol: "smtp", path: "smtp", body: email })));
  const httpPort = await listen(httpServer, host, options.httpPort ?? ALERT_RECEIVER.httpPort);
  const smtpPort = await listen(smtpServer, host, options.smtpPort ?? ALERT_RECEIVER.smtpPort).catch(async (error: Error) => {
    httpServer.close();
    throw error;
  });

  let closed: Promise<void> | undefined;
  const receiver: AlertReceiver = {
    url: `http://${host}:${httpPort}`,
    smarthost: `${host}:${smtpPort}`,
    deliveries,
    alerts: () => deliveries.flatMap(alertsOf),
    waitForAlert(match) {
      const found = receiver.alerts().find((a) => matches(a, match));
      if (found) return Promise.resolve(found);
      if (closed) return Promise.reject(new Error(`the alert receiver is closed; ${describeMiss(match, receiver.alerts())}`));
      return new Promise((resolve, reject) => waiters.add({ match, resolve, reject }));
    },
    close() {
      closed ??= (async () => {
        for (const w of waiters) w.reject(new Error(`the alert receiver closed first; ${describeMiss(w.match, receiver.alerts())}`));
        waiters.clear();
        httpServer.closeAllConnections();
        await Promise.all([new Promise((r) => httpServer.close(r)), new Promise((r) => smtpServer.close(r))]);
      })();
      return closed;
    },
  };
  closeAtEnd(() => receiver.close());
  return receiver;
}

/**
 * Inside a test: when it finishes. At collection: after the suite's tests. In a hook, where
 * vitest takes no new hook, the caller closes it (close() may be called more than once).
 */
function closeAtEnd(close: () => Promise<void>): void {
  try {
    onTestFinished(close);
  } catch {
    try {
      afterAll(close);
    } catch {
      // Started in a hook: the caller's own afterAll closes it.
    }
  }
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      // The test's process must not wait for the receiver to exit.
      server.unref();
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function matches(alert: ReceivedAlert, match: AlertMatch): boolean {
  return (
    alert.name === match.name &&
    alert.status === match.status &&
    (match.via === undefined || alert.via === match.via) &&
    Object.entries(match.labels ?? {}).every(([k, v]) => alert.labels[k] === v)
  );
}

function describeMiss(match: AlertMatch, received: readonly ReceivedAlert[]): string {
  const seen = received.map((a) => `${a.name} ${a.status} via ${a.via} ${JSON.stringify(a.labels)}`);
  return `no ${match.status} alert ${match.name} with ${JSON.stringify(match.labels ?? {})} arrived; received: ${seen.length > 0 ? seen.join("; ") : "nothing"}`;
}

// ---------------------------------------------------------------------------------------------
// Reading alerts out of each notification format
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown): Record<string, string> =>
  isObject(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string")) : {};

/** The alerts one delivery carries; none when it is no notification format known here. */
export function alertsOf(delivery: Delivery): ReceivedAlert[] {
  const { body, path } = delivery;
  if (delivery.protocol === "smtp") return emailAlerts(body as Email, path);
  if (!isObject(body)) return [];
  if (Array.isArray(body.alerts) && typeof body.version === "string") return webhookAlerts(body.alerts, path);
  if (typeof body.event_action === "string") return pagerdutyAlerts(body, path);
  if (Array.isArray(body.attachments)) return slackAlerts(body.attachments, path);
  return [];
}

/** Alertmanager's webhook payload: every alert with its status, labels and annotations. */
function webhookAlerts(alerts: unknown[], path: string): ReceivedAlert[] {
  return alerts.filter(isObject).map((a) => {
    const labels = strings(a.labels);
    return {
      via: "webhook",
      path,
      name: labels.alertname ?? "",
      status: a.status === "resolved" ? "resolved" : "firing",
      labels,
      annotations: strings(a.annotations),
    };
  });
}

/**
 * PagerDuty Events API v2: the default custom details list the firing and the resolved alerts
 * with their labels and annotations, in Alertmanager's text list.
 */
function pagerdutyAlerts(body: Json, path: string): ReceivedAlert[] {
  const details = isObject(body.payload) ? strings(body.payload.custom_details) : {};
  return [
    ...textAlertList(details.firing ?? "").map((a) => ({ via: "pagerduty" as const, path, status: "firing" as const, ...a })),
    ...textAlertList(details.resolved ?? "").map((a) => ({ via: "pagerduty" as const, path, status: "resolved" as const, ...a })),
  ];
}

/**
 * Slack: one message per alert group. The title opens with the status ("[FIRING:2] Name ...",
 * "[RESOLVED] Name ..."), then the group's label values, the alert name first; the fields carry
 * severity and owner; the text links the runbook.
 */
function slackAlerts(attachments: unknown[], path: string): ReceivedAlert[] {
  return attachments.filter(isObject).flatMap((a): ReceivedAlert[] => {
    const title = /^\[(FIRING|RESOLVED)[^\]]*\]\s+(\S+)/.exec(typeof a.title === "string" ? a.title : "");
    if (!title) return [];
    const labels: Record<string, string> = { alertname: title[2]! };
    for (const f of Array.isArray(a.fields) ? a.fields.filter(isObject) : []) {
      if (typeof f.title === "string" && typeof f.value === "string" && f.value !== "") labels[f.title.toLowerCase()] = f.value;
    }
    const text = typeof a.text === "string" ? a.text : "";
    const runbook = /<([^|>]+)\|runbook>/.exec(text);
    const summary = /^\*(.+?)\*/m.exec(text);
    return [
      {
        via: "slack",
        path,
        name: title[2]!,
        status: title[1] === "RESOLVED" ? "resolved" : "firing",
        labels,
        annotations: { ...(summary ? { summary: summary[1]! } : {}), ...(runbook ? { runbook_url: runbook[1]! } : {}) },
      },
    ];
  });
}

/** E-mail: the plain-text part lists the alerts under "Firing:" and "Resolved:". */
function emailAlerts(email: Email, path: string): ReceivedAlert[] {
  const [firing = "", resolved = ""] = splitOnce(email.text.replace(/\r\n/g, "\n"), /^Resolved:$/m);
  return [
    ...textAlertList(firing.replace(/^Firing:\n/, "")).map((a) => ({ via: "email" as const, path, status: "firing" as const, ...a })),
    ...textAlertList(resolved).map((a) => ({ via: "email" as const, path, status: "resolved" as const, ...a })),
  ];
}

function splitOnce(text: string, separator: RegExp): [string, string] {
  const m = separator.exec(text);
  return m ? [text.slice(0, m.index), text.slice(m.index + m[0].length)] : [text, ""];
}

/**
 * Alertmanager's `__text_alert_list`: per alert "Labels:", " - name = value" lines,
 * "Annotations:", the same, then "Source: URL". A value spanning lines continues unprefixed.
 */
export function textAlertList(text: string): { name: string; labels: Record<string, string>; annotations: Record<string, string> }[] {
  const alerts: { name: string; labels: Record<string, string>; annotations: Record<string, string> }[] = [];
  let section: Record<string, string> | undefined;
  let last: string | undefined;
  for (const line of text.replace(/\r\n/g, "\n").split("\n")) {
    if (line === "Labels:") {
      alerts.push({ name: "", labels: {}, annotations: {} });
      section = alerts[alerts.length - 1]!.labels;
      last = undefined;
    } else if (line === "Annotations:" && alerts.length > 0) {
      section = alerts[alerts.length - 1]!.annotations;
      last = undefined;
    } else if (line.startsWith("Source: ")) {
      section = undefined;
    } else if (section !== undefined) {
      const pair = /^ - ([^=]+?) = (.*)$/.exec(line);
      if (pair) {
        last = pair[1]!;
        section[last] = pair[2]!;
      } else if (last !== undefined) {
        section[last] += `\n${line}`;
      }
    }
  }
  for (const a of alerts) a.name = a.labels.alertname ?? "";
  return alerts;
}

// ---------------------------------------------------------------------------------------------
// SMTP: just enough of RFC 5321 for Alertmanager's Go client, without TLS or AUTH (neither is
// advertised, so a channel with `requireTls: false` sends in the clear and skips its login)
// ---------------------------------------------------------------------------------------------

function smtpSession(socket: net.Socket, deliver: (email: Email) => void): void {
  let buffer = "";
  let data: string[] | undefined;
  let from = "";
  let to: string[] = [];
  const reply = (line: string) => socket.write(`${line}\r\n`);
  socket.setEncoding("utf8");
  socket.on("error", () => socket.destroy());
  reply("220 nexus-alert-receiver ESMTP");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf("\r\n"); end >= 0; end = buffer.indexOf("\r\n")) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (data !== undefined) {
        if (line !== ".") {
          data.push(line.startsWith(".") ? line.slice(1) : line);
          continue;
        }
        deliver(parseMessage(from, to, data.join("\r\n")));
        data = undefined;
        from = "";
        to = [];
        reply("250 OK: queued");
        continue;
      }
      switch (line.slice(0, 4).toUpperCase()) {
        case "EHLO":
          reply("250-nexus-alert-receiver\r\n250 8BITMIME");
          break;
        case "HELO":
          reply("250 nexus-alert-receiver");
          break;
        case "MAIL":
          from = angle(line);
          reply("250 OK");
          break;
        case "RCPT":
          to.push(angle(line));
          reply("250 OK");
          break;
        case "DATA":
          data = [];
          reply("354 End data with <CR><LF>.<CR><LF>");
          break;
        case "RSET":
          from = "";
          to = [];
          reply("250 OK");
          break;
        case "NOOP":
          reply("250 OK");
          break;
        case "QUIT":
          reply("221 Bye");
          socket.end();
          break;
        default:
          reply("502 Command not implemented");
      }
    }
  });
}

const angle = (line: string) => /<([^>]*)>/.exec(line)?.[1] ?? "";

/** Subject and plain-text part of a MIME message as Alertmanager writes it (multipart/alternative, quoted-printable). */
export function parseMessage(from: string, to: string[], message: string): Email {
  const { headers, body } = splitHeaders(message);
  const type = headers["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  let text = "";
  if (boundary !== undefined) {
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith("--")) break;
      const p = splitHeaders(part.replace(/^\r\n/, ""));
      if ((p.headers["content-type"] ?? "").toLowerCase().startsWith("text/plain")) {
        text = decode(p.body.replace(/\r\n$/, ""), p.headers["content-transfer-encoding"]);
      }
    }
  } else if (type.toLowerCase().startsWith("text/plain")) {
    text = decode(body, headers["content-transfer-encoding"]);
  }
  return { from, to, subject: headers.subject ?? "", text };
}

function splitHeaders(text: string): { headers: Record<string, string>; body: string } {
  const end = text.indexOf("\r\n\r\n");
  const head = end >= 0 ? text.slice(0, end) : text;
  const headers: Record<string, string> = {};
  // Folded header lines continue with white space.
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: end >= 0 ? text.slice(end + 4) : "" };
}

function decode(body: string, encoding: string | undefined): string {
  switch ((encoding ?? "").toLowerCase()) {
    case "quoted-printable":
      return Buffer.from(
        body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
        "latin1",
      ).toString("utf8");
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    default:
      return body;
  }
}
