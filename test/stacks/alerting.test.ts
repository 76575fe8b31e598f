import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { K8S } from "../../contract/types";
import { runMocked, type MockRun } from "../../internal/pulumi/mocks";
import { MONITORING, buildPlatform } from "../../stacks/platform";
import { kubeAs, kubeInputs, secretInside } from "../support/inputs";
import { DEV_SETTINGS, PROD_SETTINGS, fakeSecrets, realModel } from "./support";

/**
 * How alerts leave the cluster, as deployed: Alertmanager's configuration names a proxy or an
 * endpoint, and its pods' NetworkPolicies let it reach exactly the addresses the security
 * registry declares for its namespace: nothing it needs is blocked, nothing else is open.
 */
async function deployed(env: "dev" | "prod") {
  const model = realModel(env);
  const run = await runMocked(
    () => buildPlatform(model, env === "dev" ? DEV_SETTINGS : PROD_SETTINGS, fakeSecrets(model)) as unknown as Record<string, unknown>,
    {
      stack: env,
    },
  );
  return { model, run };
}

/** "CIDR:PORT" of every address block the NetworkPolicies selecting Alertmanager's pods let them reach. */
function alertmanagerEgress(run: MockRun): string[] {
  const deployment = kubeInputs(run, K8S.Deployment, `${MONITORING}-alertmanager`);
  const namespace = deployment.metadata.namespace!;
  const labels = deployment.spec.template.metadata.labels;
  const selects = (matchLabels: Record<string, string> | undefined) => Object.entries(matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const allowed = new Set<string>();
  for (const np of run.byType(K8S.NetworkPolicy).map((r) => kubeAs(r, K8S.NetworkPolicy))) {
    if (np.metadata.namespace !== namespace || !np.spec.policyTypes.includes("Egress") || !selects(np.spec.podSelector.matchLabels)) continue;
    for (const rule of np.spec.egress ?? []) {
      for (const peer of rule.to ?? []) {
        if (peer.ipBlock === undefined) continue;
        for (const port of rule.ports ?? []) allowed.add(`${peer.ipBlock.cidr}:${port.port}`);
      }
    }
  }
  return [...allowed].sort();
}

/** Alertmanager's configuration as its Secret holds it. */
function alertmanagerYaml(run: MockRun) {
  const secret = kubeInputs(run, K8S.Secret, `${MONITORING}-alertmanager`);
  // The whole stringData is one secret output: it holds the channel secrets.
  return parse(secretInside<Record<string, string>>(secret.stringData)["alertmanager.yml"]!) as {
    receivers: { name: string; [type: string]: unknown }[];
  };
}

/** "ADDRESS:PORT" Alertmanager connects to for each receiver: its proxy, else its endpoint. */
function destinations(config: ReturnType<typeof alertmanagerYaml>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of config.receivers) {
    for (const [key, list] of Object.entries(r)) {
      if (!key.endsWith("_configs")) continue;
      const c = (list as Record<string, unknown>[])[0]!;
      const proxy = (c.http_config as { proxy_url?: string } | undefined)?.proxy_url;
      const url = proxy ?? (typeof c.url === "string" ? c.url : typeof c.api_url === "string" ? c.api_url : undefined);
      // The fake secrets of these runs are no URLs: such an endpoint shows as the secret it is.
      out[r.name] = url === undefined ? (c.smarthost as string) : URL.canParse(url) ? new URL(url).host : "(secret)";
    }
  }
  return out;
}

let dev: Awaited<ReturnType<typeof deployed>>;
let prod: Awaited<ReturnType<typeof deployed>>;
beforeAll(async () => {
  // One mocked program at a time: the Pulumi runtime is global.
  dev = await deployed("dev");
  prod = await deployed("prod");
});

describe("how alerts leave the cluster", () => {
  it("prod: Alertmanager reaches the egress proxy and the SMTP relay, and no other address", () => {
    expect(alertmanagerEgress(prod.run)).toEqual(["10.40.0.10/32:3128", "203.0.113.25/32:587"]);
    expect(destinations(alertmanagerYaml(prod.run))).toEqual({
      "platform-slack": "10.40.0.10:3128",
      "frontend-slack": "10.40.0.10:3128",
      "security-slack": "10.40.0.10:3128",
      "oncall-pagerduty": "10.40.0.10:3128",
      // A host name: the smtp-relay rule opens the address it resolves to.
      "data-email": "smtp.nexus.example:587",
    });
  });

  it("dev: Alertmanager reaches the local receiver's HTTP and SMTP ports (and the relay), no proxy", () => {
    expect(alertmanagerEgress(dev.run)).toEqual(["10.244.0.1/32:2525", "10.244.0.1/32:9097", "203.0.113.25/32:587"]);
    const to = destinations(alertmanagerYaml(dev.run));
    expect(to["oncall-pagerduty"]).toBe("10.244.0.1:9097");
    expect(to["data-email"]).toBe("10.244.0.1:2525");
    // The Slack URLs are stack secrets (here fake values): a test points them at the receiver.
    expect(JSON.stringify(alertmanagerYaml(dev.run))).not.toContain("proxy_url");
  });
});
