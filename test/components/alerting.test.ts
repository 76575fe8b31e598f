import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EMAIL_TEXT, alertmanagerConfig, channelSecretKeys, toYaml, type AlertmanagerInput } from "../../components/builders/monitoring";
import { loadModel } from "../../domain/loader";
import type { Model, ResolvedChannel } from "../../domain/model";
import { channelProxies, proxyAddress } from "../../domain/model/alerting";
import { ALERT_RECEIVER, startAlertReceiver } from "../support/alertReceiver";
import { REAL_REGISTRIES } from "../support/registries";

const M = "registries/monitoring.yaml";
const slack: ResolvedChannel = { name: "ops-slack", type: "slack", slackChannel: "#ops", webhookSecret: "slackUrl", source: `${M}:1` };
const pager: ResolvedChannel = { name: "pager", type: "pagerduty", routingKeySecret: "pdKey", source: `${M}:2` };
const mail: ResolvedChannel = {
  name: "data-mail",
  type: "email",
  to: "data@nexus.example",
  from: "alerts@nexus.example",
  smarthost: "smtp.nexus.example:587",
  passwordSecret: "smtpPassword",
  requireTls: true,
  source: `${M}:3`,
};
const hook: ResolvedChannel = { name: "hook", type: "webhook", urlSecret: "hookUrl", source: `${M}:4` };

function input(channels: ResolvedChannel[], secrets: Record<string, string>, extra: Partial<AlertmanagerInput> = {}): AlertmanagerInput {
  return {
    channels,
    routing: { critical: channels.map((c) => c.name), warning: [channels[0]!.name], info: [], groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" },
    alerts: [],
    slos: [],
    teams: [],
    backupTasks: [],
    tasks: [],
    secrets,
    ...extra,
  };
}

const secrets = { slackUrl: "https://hooks.slack.example/T/B/X", pdKey: "pd-key", smtpPassword: "pw", hookUrl: "https://hook.example/in" };
const receiver = (config: ReturnType<typeof alertmanagerConfig>, name: string) => config.receivers.find((r) => r.name === name) as Record<string, unknown>;

describe("channel proxies from the security registry's egress", () => {
  it("turns a rule of one /32 CIDR and one port into the proxy of the types it names", () => {
    const proxy = { cidrs: ["10.40.0.10/32"], ports: [3128], proxyFor: ["slack", "pagerduty"] as const };
    expect(proxyAddress(proxy)).toBe("http://10.40.0.10:3128");
    expect(
      channelProxies([
        { cidrs: ["203.0.113.25/32"], ports: [587] },
        { ...proxy, proxyFor: [...proxy.proxyFor] },
      ]),
    ).toEqual({
      slack: "http://10.40.0.10:3128",
      pagerduty: "http://10.40.0.10:3128",
    });
  });

  it("has no address for a range or several ports", () => {
    expect(proxyAddress({ cidrs: ["10.40.0.0/24"], ports: [3128] })).toBeUndefined();
    expect(proxyAddress({ cidrs: ["10.40.0.10/32"], ports: [3128, 8080] })).toBeUndefined();
    expect(proxyAddress({ cidrs: ["10.40.0.10/32", "10.40.0.11/32"], ports: [3128] })).toBeUndefined();
  });
});

describe("alertmanagerConfig: proxies and per-environment endpoints", () => {
  it("sends the proxied types through their proxy and the others direct", () => {
    const config = alertmanagerConfig(
      input([slack, pager, mail, hook], secrets, { proxies: { slack: "http://10.40.0.10:3128", pagerduty: "http://10.40.0.10:3128" } }),
    );
    const first = (name: string, key: string) => (receiver(config, name)[key] as Record<string, unknown>[])[0]!;
    expect(first("ops-slack", "slack_configs").http_config).toEqual({ proxy_url: "http://10.40.0.10:3128" });
    expect(first("pager", "pagerduty_configs").http_config).toEqual({ proxy_url: "http://10.40.0.10:3128" });
    expect(first("hook", "webhook_configs")).not.toHaveProperty("http_config");
    expect(first("data-mail", "email_configs")).not.toHaveProperty("http_config");
  });

  it("without proxies, no receiver has an http_config", () => {
    expect(toYaml(alertmanagerConfig(input([slack, pager, mail, hook], secrets)))).not.toContain("proxy_url");
  });

  it("posts PagerDuty events to the channel's URL where one is set, and relaxes STARTTLS only where the channel says", () => {
    const config = alertmanagerConfig(
      input(
        [
          { ...pager, url: "http://10.244.0.1:9097/pagerduty" },
          { ...mail, smarthost: "10.244.0.1:2525", requireTls: false },
        ],
        secrets,
      ),
    );
    expect(receiver(config, "pager").pagerduty_configs).toEqual([{ routing_key: "pd-key", url: "http://10.244.0.1:9097/pagerduty", send_resolved: true }]);
    expect(receiver(config, "data-mail").email_configs).toEqual([
      {
        to: "data@nexus.example",
        from: "alerts@nexus.example",
        smarthost: "10.244.0.1:2525",
        auth_username: "alerts@nexus.example",
        auth_password: "pw",
        require_tls: false,
        text: EMAIL_TEXT,
        send_resolved: true,
      },
    ]);
    const defaults = alertmanagerConfig(input([pager, mail], secrets));
    expect((receiver(defaults, "pager").pagerduty_configs as object[])[0]).not.toHaveProperty("url");
    expect((receiver(defaults, "data-mail").email_configs as object[])[0]).not.toHaveProperty("require_tls");
  });

  it("waits groupInterval before notifying a group's changes", () => {
    const config = alertmanagerConfig(
      input([slack], secrets, { routing: { critical: ["ops-slack"], warning: [], info: [], groupWait: "10s", groupInterval: "30s", repeatInterval: "4h" } }),
    );
    expect(config.route).toMatchObject({ group_wait: "10s", group_interval: "30s", repeat_interval: "4h" });
  });
});

/** The configuration the stack would give Alertmanager in an environment of the real registries. */
function realConfig(model: Model, secretValue: (key: string) => string) {
  const m = model.monitoring;
  return alertmanagerConfig({
    channels: m.channels,
    routing: m.routing,
    alerts: m.alerts,
    slos: m.slos,
    teams: model.teams,
    backupTasks: [],
    tasks: [],
    secrets: Object.fromEntries(channelSecretKeys(m.channels).map((k) => [k, secretValue(k)])),
    proxies: channelProxies(model.security.network.egress),
  });
}

describe("the real registries: how alerts leave the cluster", () => {
  const dev = loadModel({ registriesDir: REAL_REGISTRIES, env: "dev" });
  const prod = loadModel({ registriesDir: REAL_REGISTRIES, env: "prod" });
  const configs = {
    dev: realConfig(dev, (k) => `http://${ALERT_RECEIVER.host}:${ALERT_RECEIVER.httpPort}/slack/${k}`),
    prod: realConfig(prod, (k) => `https://hooks.slack.example/${k}`),
  };

  it("prod: Slack and PagerDuty go through the egress proxy, e-mail to the relay with STARTTLS", () => {
    const text = toYaml(configs.prod);
    expect(text.match(/proxy_url: http:\/\/10\.40\.0\.10:3128/g)).toHaveLength(
      prod.monitoring.channels.filter((c) => c.type === "slack" || c.type === "pagerduty").length,
    );
    expect(receiver(configs.prod, "data-email").email_configs).toMatchObject([{ smarthost: "smtp.nexus.example:587" }]);
    expect(text).not.toContain("require_tls");
    expect(text).not.toContain("10.244.0.1");
  });

  it("dev: no proxy; PagerDuty and e-mail reach the local receiver, on the ports the dev egress opens", () => {
    const text = toYaml(configs.dev);
    expect(text).not.toContain("proxy_url");
    const { host, httpPort, smtpPort } = ALERT_RECEIVER;
    expect(receiver(configs.dev, "oncall-pagerduty").pagerduty_configs).toMatchObject([{ url: `http://${host}:${httpPort}/pagerduty` }]);
    expect(receiver(configs.dev, "data-email").email_configs).toMatchObject([{ smarthost: `${host}:${smtpPort}`, require_tls: false }]);
    const opened = dev.security.network.egress.filter((r) => r.cidrs.includes(`${host}/32`) && r.namespaces.includes(dev.monitoring.stack.namespace));
    expect(opened.flatMap((r) => r.ports).sort()).toEqual([httpPort, smtpPort].sort());
  });

  it("amtool (Alertmanager 0.25, as dev runs) accepts both environments' configurations", () => {
    for (const [env, config] of Object.entries(configs)) {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, "alertmanager.yml"), toYaml(config));
      const r = spawnSync("amtool", ["check-config", "alertmanager.yml"], { cwd: dir, encoding: "utf8" });
      expect(r.error, "amtool is not installed: apt-get install -y prometheus-alertmanager").toBeUndefined();
      expect(`${env}: ${r.stdout}${r.stderr}`).toContain("SUCCESS");
      expect(r.status).toBe(0);
    }
  });
});

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  children.forEach((c) => c.kill());
  dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-alerting-"));
  dirs.push(dir);
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

describe("a real Alertmanager delivers to the receiver", () => {
  it("Slack, PagerDuty, e-mail and webhook notifications carry the alert, firing then resolved", async () => {
    const rx = await startAlertReceiver({ host: "127.0.0.1", httpPort: 0, smtpPort: 0 });
    const channels: ResolvedChannel[] = [slack, { ...pager, url: `${rx.url}/pagerduty` }, { ...mail, smarthost: rx.smarthost, requireTls: false }, hook];
    const config = alertmanagerConfig(
      input(
        channels,
        { ...secrets, slackUrl: `${rx.url}/slack/ops`, hookUrl: `${rx.url}/webhook` },
        {
          routing: { critical: channels.map((c) => c.name), warning: [], info: [], groupWait: "1s", groupInterval: "1s", repeatInterval: "4h" },
        },
      ),
    );
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "alertmanager.yml"), toYaml(config));
    const port = await freePort();
    const api = `http://127.0.0.1:${port}/api/v2/alerts`;
    const am = spawn(
      "prometheus-alertmanager",
      ["--config.file=alertmanager.yml", `--storage.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="],
      { cwd: dir, stdio: "ignore" },
    );
    children.push(am);
    const spawned = await new Promise<Error | undefined>((resolve) => am.once("spawn", () => resolve(undefined)).once("error", resolve));
    expect(spawned, "prometheus-alertmanager is not installed: apt-get install -y prometheus-alertmanager").toBeUndefined();

    const labels = { alertname: "ApiDown", severity: "critical", owner: "platform", service: "api" };
    const annotations = { summary: "The API is down", runbook_url: "https://runbooks.example/api-down" };
    const post = async (body: object) => {
      // Until Alertmanager listens, the post is refused: try again.
      for (;;) {
        const sent = await fetch(api, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([body]) }).catch(() => undefined);
        if (sent?.ok) return;
        expect(am.exitCode, "Alertmanager exited").toBeNull();
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await post({ labels, annotations, startsAt: new Date().toISOString() });
    for (const via of ["slack", "pagerduty", "email", "webhook"] as const) {
      const got = await rx.waitForAlert({ name: "ApiDown", status: "firing", labels: { severity: "critical", owner: "platform" }, via });
      expect(got.annotations.runbook_url).toBe(annotations.runbook_url);
    }
    await post({ labels, annotations, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date().toISOString() });
    for (const via of ["slack", "pagerduty", "email", "webhook"] as const) {
      const got = await rx.waitForAlert({ name: "ApiDown", status: "resolved", labels: { severity: "critical", owner: "platform" }, via });
      expect(got.annotations.runbook_url).toBe(annotations.runbook_url);
    }
    const email = rx.deliveries.find((d) => d.protocol === "smtp")!.body as { to: string[]; subject: string };
    expect(email.to).toEqual(["data@nexus.example"]);
    expect(email.subject).toMatch(/^\[FIRING:1\] ApiDown/);
  });
});
