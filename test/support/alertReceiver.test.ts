import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { startAlertReceiver, textAlertList } from "./alertReceiver";

const post = (url: string, body: unknown) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** A Slack webhook call as Alertmanager sends it for the stack's Slack channels. */
const slackPayload = (status: "FIRING:1" | "RESOLVED") => ({
  channel: "#nexus-platform",
  username: "Alertmanager",
  attachments: [
    {
      title: `[${status}] BackendApiDown backend-api (platform critical)`,
      text: "*backend-api has no healthy instance* <https://runbooks.nexus.example/alerts/backend-api-down|runbook>\n",
      fields: [
        { title: "severity", value: "critical", short: true },
        { title: "owner", value: "platform", short: true },
      ],
      color: status === "RESOLVED" ? "good" : "danger",
    },
  ],
});

/** A PagerDuty Events API v2 call with Alertmanager's default custom details. */
const pagerdutyPayload = (action: "trigger" | "resolve") => {
  const list =
    "Labels:\n - alertname = BackupMissed\n - category = backup\n - owner = data\n - severity = critical\n - task = postgres-backup\n" +
    "Annotations:\n - description = No successful run\nwithin two periods.\n - summary = Backup postgres-backup has not succeeded\nSource: http://prometheus/graph\n";
  return {
    routing_key: "key",
    dedup_key: "abc",
    event_action: action,
    payload: {
      summary: "[FIRING:1] BackupMissed",
      source: "Alertmanager",
      severity: "error",
      custom_details: { firing: action === "trigger" ? list : "", resolved: action === "resolve" ? list : "", num_firing: "1", num_resolved: "0" },
    },
  };
};

let closedUrl: string | undefined;

describe("the alert receiver", () => {
  it("records Slack and PagerDuty posts and finds an alert by name, status and labels", async () => {
    const rx = await startAlertReceiver({ host: "127.0.0.1", httpPort: 0, smtpPort: 0 });
    closedUrl = rx.url;
    expect(rx.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await post(`${rx.url}/slack/platform`, slackPayload("FIRING:1"))).status).toBe(200);
    expect((await post(`${rx.url}/pagerduty`, pagerdutyPayload("trigger"))).status).toBe(200);

    expect(rx.deliveries.map((d) => d.path)).toEqual(["/slack/platform", "/pagerduty"]);
    expect(rx.deliveries[0]!.body).toEqual(slackPayload("FIRING:1"));
    const slack = await rx.waitForAlert({ name: "BackendApiDown", status: "firing", labels: { severity: "critical", owner: "platform" } });
    expect(slack).toMatchObject({
      via: "slack",
      path: "/slack/platform",
      annotations: { runbook_url: "https://runbooks.nexus.example/alerts/backend-api-down" },
    });
    const pd = await rx.waitForAlert({ name: "BackupMissed", status: "firing", labels: { owner: "data", task: "postgres-backup" }, via: "pagerduty" });
    expect(pd.labels.severity).toBe("critical");
    expect(pd.annotations.description).toBe("No successful run\nwithin two periods.");
  });

  it("a wait started first resolves when the alert arrives, and only for a matching one", async () => {
    const rx = await startAlertReceiver({ host: "127.0.0.1", httpPort: 0, smtpPort: 0 });
    const resolved = rx.waitForAlert({ name: "BackendApiDown", status: "resolved", labels: { owner: "platform" } });
    await post(`${rx.url}/slack/platform`, slackPayload("FIRING:1"));
    await post(`${rx.url}/pagerduty`, pagerdutyPayload("resolve"));
    await post(`${rx.url}/slack/platform`, slackPayload("RESOLVED"));
    expect(await resolved).toMatchObject({ name: "BackendApiDown", status: "resolved", via: "slack" });
    expect(rx.alerts().map((a) => `${a.name} ${a.status} ${a.via}`)).toEqual([
      "BackendApiDown firing slack",
      "BackupMissed resolved pagerduty",
      "BackendApiDown resolved slack",
    ]);
  });

  it("closed itself when the previous test ended", async () => {
    const { port } = new URL(closedUrl!);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(Number(port), "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it("closing rejects a wait still open, saying what did arrive", async () => {
    const rx = await startAlertReceiver({ host: "127.0.0.1", httpPort: 0, smtpPort: 0 });
    await post(`${rx.url}/slack/platform`, slackPayload("FIRING:1"));
    const waiting = rx.waitForAlert({ name: "BackendApiDown", status: "firing", labels: { owner: "data" } });
    await rx.close();
    await expect(waiting).rejects.toThrow(/no firing alert BackendApiDown with \{"owner":"data"\} arrived; received: BackendApiDown firing via slack/);
  });

  it("reads Alertmanager's text alert list, multi-line values included", () => {
    expect(
      textAlertList(
        "Labels:\n - alertname = A\n - team = x\nAnnotations:\n - summary = one\ntwo\nSource: \nLabels:\n - alertname = B\nAnnotations:\nSource: \n",
      ),
    ).toEqual([
      { name: "A", labels: { alertname: "A", team: "x" }, annotations: { summary: "one\ntwo" } },
      { name: "B", labels: { alertname: "B" }, annotations: {} },
    ]);
  });
});
