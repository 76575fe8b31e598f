/**
 * Generates a synthetic but valid set of the five registry files with N services, for the load
 * benchmark (bench/load.ts). Deterministic: the same N and seed give byte-identical files.
 *
 * Proportions per service: ~1.5 automation tasks (one backup per stateful service (20 %), one
 * health check each, an extra scan/test/report for every third one), 2 alerts, one SLO per user-facing
 * service; teams, namespaces and channels grow slowly with N. Each service depends on up to two
 * earlier ones (a DAG), and about a third of the entries carry dev/prod overrides.
 *
 *   npx tsx bench/generate.ts --services 1000 --out bench/out/1000/registries
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { POLICY_IDS } from "../domain/schema";

export interface GenerateOptions {
  services: number;
  seed?: number;
}

export interface GenerateStats {
  services: number;
  tasks: number;
  alerts: number;
  slos: number;
  bytes: number;
  files: Record<string, number>;
}

export const REGISTRY_FILE_NAMES = ["orchestration.yaml", "automation.yaml", "pipelines.yaml", "monitoring.yaml", "security.yaml"] as const;

export const IMAGE_REGISTRIES = ["ghcr.io/nexus-platform", "docker.io/library", "registry.nexus.example/platform"];
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;

/* ---------------------------------------------------------------------------------------------
 * A small YAML emitter in the style of the hand-written registries: flow style for short leaf
 * mappings and scalar lists, block style for everything else, quotes only where needed.
 * ------------------------------------------------------------------------------------------- */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };

const PLAIN = /^[A-Za-z/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(value: string | number | boolean | null): string {
  if (value === null) return "null";
  if (typeof value !== "string") return String(value);
  return PLAIN.test(value) && !RESERVED.test(value) ? value : JSON.stringify(value);
}

function isScalar(value: Json | undefined): value is string | number | boolean | null {
  return value === null || typeof value !== "object";
}

function entries(obj: { [key: string]: Json | undefined }): [string, Json][] {
  return Object.entries(obj).filter((e): e is [string, Json] => e[1] !== undefined);
}

function flow(value: Json): string | undefined {
  if (isScalar(value)) return scalar(value);
  if (Array.isArray(value)) {
    if (!value.every(isScalar)) return undefined;
    const text = `[${value.map((v) => scalar(v as string)).join(", ")}]`;
    return text.length <= 90 ? text : undefined;
  }
  const es = entries(value);
  if (es.length === 0) return "{}";
  if (es.length > 4) return undefined;
  const parts: string[] = [];
  for (const [k, v] of es) {
    const f = isScalar(v) ? scalar(v) : flow(v);
    if (f === undefined) return undefined;
    parts.push(`${k}: ${f}`);
  }
  const text = `{ ${parts.join(", ")} }`;
  return text.length <= 90 ? text : undefined;
}

function emit(value: Json, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isScalar(item)) {
        out.push(`${indent}- ${scalar(item)}`);
        continue;
      }
      // Short scalar-only mappings and scalar lists go on the dash line: "- { env: X, configKey: y }".
      const small = Array.isArray(item) || (entries(item).length <= 3 && entries(item).every(([, v]) => isScalar(v)));
      const f = small ? flow(item) : undefined;
      if (f !== undefined) {
        out.push(`${indent}- ${f}`);
        continue;
      }
      // A mapping in a list: first key on the dash line, the rest aligned under it.
      const sub: string[] = [];
      emit(item, `${indent}  `, sub);
      if (sub.length > 0) sub[0] = `${indent}- ${sub[0]!.slice(indent.length + 2)}`;
      out.push(...sub);
    }
    return;
  }
  for (const [k, v] of entries(value as { [key: string]: Json | undefined })) {
    const f = flow(v);
    if (f !== undefined) {
      out.push(`${indent}${k}: ${f}`);
    } else {
      out.push(`${indent}${k}:`);
      emit(v, `${indent}  `, out);
    }
  }
}

function toYaml(header: string, doc: { [key: string]: Json | undefined }, sectionComments: Record<string, string> = {}): string {
  const out: string[] = [header];
  for (const [k, v] of entries(doc)) {
    if (sectionComments[k]) out.push("", `# ${sectionComments[k]}`);
    const f = isScalar(v) ? scalar(v) : undefined;
    if (f !== undefined) {
      out.push(`${k}: ${f}`);
      continue;
    }
    out.push(`${k}:`);
    emit(v, "  ", out);
  }
  return `${out.join("\n")}\n`;
}

/* ------------------------------------------------------------------------------------------- */

/** mulberry32: a tiny seeded PRNG so the generated registries are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (i: number, width: number) => String(i).padStart(width, "0");
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

const WORDS = [
  "orders",
  "billing",
  "search",
  "catalog",
  "users",
  "auth",
  "payments",
  "ledger",
  "inventory",
  "notify",
  "media",
  "reports",
  "agents",
  "events",
  "gateway",
  "profile",
];
const STORE_KINDS = [
  { image: "docker.io/library/postgres:16.4", port: 5432, method: "postgres-dump", mount: "/var/lib/postgresql/data" },
  { image: "docker.io/library/redis:7.4.1", port: 6379, method: "redis-snapshot", mount: "/data" },
  { image: "registry.nexus.example/platform/blob-store:3.2.0", port: 9000, method: "volume-archive", mount: "/srv/blobs" },
] as const;
const CPU = ["50m", "100m", "200m", "250m", "500m"];
const MEM = ["64Mi", "128Mi", "256Mi", "512Mi"];

interface Plan {
  name: string;
  team: string;
  namespace: string;
  stateful: boolean;
  store?: (typeof STORE_KINDS)[number];
  personalData: boolean;
  userFacing: boolean;
  port: number;
}

function resources(rand: () => number, scale = 1): Json {
  const c = Math.floor(rand() * CPU.length);
  const m = Math.floor(rand() * MEM.length);
  // limits are requests x2..x4, so requests <= limits always holds.
  const factor = 2 + Math.floor(rand() * 3) * scale;
  const cpuMilli = Number(CPU[c]!.slice(0, -1)) * factor;
  const memMi = Number(MEM[m]!.slice(0, -2)) * factor;
  return {
    requests: { cpu: CPU[c]!, memory: MEM[m]! },
    limits: { cpu: cpuMilli % 1000 === 0 ? String(cpuMilli / 1000) : `${cpuMilli}m`, memory: memMi % 1024 === 0 ? `${memMi / 1024}Gi` : `${memMi}Mi` },
  };
}

/** Writes the five registry files for `services` services into `dir` (created if needed). */
export function generateRegistries(dir: string, options: GenerateOptions): GenerateStats {
  const n = options.services;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--services must be a positive whole number, got ${n}`);
  const rand = prng(options.seed ?? 0x5eed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const width = Math.max(4, String(n).length);

  // ---- teams, namespaces, channels: a few, growing slowly with N ----------------------------
  const teamCount = clamp(Math.ceil(n / 100), 3, 40);
  const nsCount = clamp(Math.ceil(n / 80), 3, 60);
  const teams = Array.from({ length: teamCount }, (_, i) => `team-${pad(i, 2)}`);
  const namespaces = ["observability", ...Array.from({ length: nsCount }, (_, i) => `apps-${pad(i, 2)}`)];
  const scale = Math.ceil(n / nsCount) + 4;
  const channels: Json[] = [
    { name: "oncall-pagerduty", type: "pagerduty", routingKeySecret: "pagerdutyRoutingKey" },
    {
      name: "ops-email",
      type: "email",
      to: "ops@nexus.example",
      smarthost: "smtp.nexus.example:587",
      from: "alerts@nexus.example",
      passwordSecret: "smtpPassword",
    },
    { name: "audit-webhook", type: "webhook", urlSecret: "auditWebhookUrl" },
    ...teams.map((t) => ({ name: `${t}-slack`, type: "slack", slackChannel: `#${t}-alerts`, webhookSecret: `slackWebhook_${t.replace("-", "_")}` })),
  ];
  const channelNames = channels.map((c) => (c as { name: string }).name);

  // ---- services --------------------------------------------------------------------------------
  const plans: Plan[] = [];
  const services: Json[] = [];
  for (let i = 0; i < n; i++) {
    const stateful = i % 5 === 1; // 20 %
    const store = stateful ? STORE_KINDS[i % STORE_KINDS.length] : undefined;
    const plan: Plan = {
      name: `${WORDS[i % WORDS.length]}-${stateful ? "db" : "svc"}-${pad(i, width)}`,
      team: teams[i % teamCount]!,
      namespace: namespaces[1 + (i % nsCount)]!,
      stateful,
      store,
      personalData: stateful && i % 3 === 0,
      userFacing: !stateful && i % 4 === 0, // ~20 %
      port: store ? store.port : 8000 + (i % 1000),
    };
    plans.push(plan);
    const deps: string[] = [];
    if (i > 0) {
      const count = Math.floor(rand() * 3); // 0, 1 or 2 earlier services
      for (let d = 0; d < count; d++) {
        const dep = plans[Math.floor(rand() * i)]!.name;
        if (!deps.includes(dep)) deps.push(dep);
      }
    }
    const image = store
      ? store.image
      : i % 10 === 7
        ? `ghcr.io/nexus-platform/${WORDS[i % WORDS.length]}@sha256:${(pad(i, 8) + "a1b2c3d4e5f60718").repeat(4).slice(0, 64)}`
        : `${pick(IMAGE_REGISTRIES.filter((r) => r !== "docker.io/library"))}/${WORDS[i % WORDS.length]}-${i % 7}:${1 + (i % 4)}.${i % 10}.${i % 13}`;
    const probes: Json = store
      ? {
          liveness: { type: "tcp", port: plan.port, initialDelaySeconds: 30 },
          readiness: { type: "tcp", port: plan.port, periodSeconds: 5 },
        }
      : {
          liveness: { type: "http", path: "/healthz", port: plan.port, initialDelaySeconds: 10 },
          readiness: { type: "http", path: "/readyz", port: plan.port },
        };
    const svc: { [key: string]: Json | undefined } = {
      name: plan.name,
      description: `Synthetic ${stateful ? "data store" : "service"} number ${i} for the load benchmark.`,
      owner: plan.team,
      namespace: plan.namespace,
      image,
      args: i % 5 === 0 ? ["--port", "$(PORT)", "--log-level", "$(LOG_LEVEL)"] : undefined,
      port: plan.port,
      protocol: store ? "tcp" : i % 9 === 0 ? "grpc" : "http",
      replicas: 1 + (i % 2),
      autoscaling: !stateful && i % 6 === 0 ? { minReplicas: 2, maxReplicas: 6, targetCPUUtilization: 70 } : undefined,
      resources: resources(rand),
      probes,
      dependsOn: deps.length > 0 ? deps : undefined,
      env: { LOG_LEVEL: "info", SERVICE_INDEX: String(i), UPSTREAM_URL: `http://${plan.name}.${plan.namespace}.svc.cluster.local:${plan.port}` },
      secrets: i % 4 === 0 ? [{ env: "API_TOKEN", configKey: `token${i}` }] : undefined,
      stateful: stateful ? true : undefined,
      storage: store ? { size: "10Gi", mountPath: store.mount } : undefined,
      personalData: plan.personalData ? true : undefined,
      exposure: plan.userFacing && i % 8 === 0 ? "public" : undefined,
      userFacing: plan.userFacing ? true : undefined,
      metrics: store ? undefined : { path: "/metrics", port: plan.port },
      environments:
        i % 3 === 0
          ? {
              dev: {
                replicas: 1,
                env: { LOG_LEVEL: "debug" },
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
              },
              prod: { replicas: plan.userFacing ? 3 : 2, topologySpread: true, ...(store ? { storage: { size: "100Gi", storageClass: "gp3" } } : {}) },
            }
          : undefined,
    };
    services.push(svc);
  }

  // ---- tasks: backup per stateful service, health check per service, extra for every other --
  const tasks: Json[] = [];
  const taskImage = "ghcr.io/nexus-platform/task-runner:2.1.0";
  for (let i = 0; i < n; i++) {
    const p = plans[i]!;
    if (p.stateful && p.store) {
      tasks.push({
        name: `${p.name}-backup`,
        description: `Nightly ${p.store.method} of ${p.name}.`,
        kind: "backup",
        owner: p.team,
        runner: "k8s-cronjob",
        schedule: `${i % 60} ${i % 5} * * *`,
        timeZone: "Etc/UTC",
        image: "ghcr.io/nexus-platform/backup-runner:1.4.0",
        target: p.name,
        resources: resources(rand),
        timeoutSeconds: 3600,
        backup: {
          method: p.store.method,
          destination: { prefix: `${p.name}/`, objectLock: !p.personalData },
          retention: { days: p.personalData ? 35 : 14, keepLast: 7 },
          gdpr: p.personalData ? { personalData: true, maxRetentionDays: 90, legalBasis: "contract" } : undefined,
        },
        environments: i % 3 === 1 ? { dev: { retries: 0, backup: { retention: { days: 3, keepLast: 2 } } } } : undefined,
      });
    }
    tasks.push({
      name: `${p.name}-health`,
      kind: "health-check",
      owner: p.team,
      runner: "k8s-cronjob",
      schedule: `*/${5 + (i % 10)} * * * *`,
      image: taskImage,
      command: ["nexus-task", "health", "--service", p.name],
      target: p.name,
      timeoutSeconds: 120,
      retries: 1,
      environments: i % 3 === 2 ? { dev: { enabled: false }, prod: { schedule: "*/2 * * * *" } } : undefined,
    });
    if (i % 3 === 0) {
      const variant = (i / 3) % 3;
      tasks.push(
        variant === 0
          ? {
              name: `${p.name}-scan`,
              kind: "security-scan",
              owner: p.team,
              runner: "k8s-cronjob",
              schedule: "0 4 * * 1-5",
              image: taskImage,
              command: ["nexus-task", "scan", p.name],
              target: p.name,
            }
          : variant === 1
            ? {
                name: `${p.name}-smoke`,
                kind: "test",
                owner: p.team,
                runner: "k8s-job",
                image: taskImage,
                command: ["nexus-task", "smoke", p.name],
                target: p.name,
                dependsOn: i > 0 ? [plans[i - 1]!.name] : undefined,
                retries: 0,
              }
            : {
                name: `${p.name}-report`,
                kind: "report",
                owner: p.team,
                runner: "local-command",
                command: ["node", "-e", `console.log(${JSON.stringify(p.name)})`],
                timeoutSeconds: 60,
              },
      );
    }
  }
  tasks.push({
    name: "security-audit",
    description: "Weekly audit of the cluster against the policy catalog.",
    kind: "security-audit",
    owner: teams[0]!,
    runner: "k8s-cronjob",
    schedule: "0 5 * * 1",
    timeZone: "Europe/Berlin",
    image: taskImage,
    command: ["nexus-task", "audit"],
    namespace: "observability",
  });

  // ---- monitoring: 2 alerts per service, an SLO per user-facing one -------------------------
  const alerts: Json[] = [];
  const slos: Json[] = [];
  for (let i = 0; i < n; i++) {
    const p = plans[i]!;
    alerts.push({
      name: `${p.name}-down`,
      expr: `up{job="${p.name}"} == 0`,
      for: "2m",
      severity: p.userFacing ? "critical" : "warning",
      service: p.name,
      summary: `${p.name} is down`,
      runbook: `https://runbooks.nexus.example/${p.name}/down`,
      environments: i % 3 === 0 ? { dev: { severity: "info", for: "10m" } } : undefined,
    });
    alerts.push({
      name: `${p.name}-${p.stateful ? "disk" : "errors"}`,
      expr: p.stateful
        ? `kubelet_volume_stats_available_bytes{persistentvolumeclaim=~"${p.name}.*"} / kubelet_volume_stats_capacity_bytes < 0.1`
        : `sum(rate(http_requests_total{service="${p.name}",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="${p.name}"}[5m])) > 0.05`,
      for: "10m",
      severity: "warning",
      service: p.name,
      channels: [`${p.team}-slack`],
      summary: p.stateful ? `${p.name} volume almost full` : `${p.name} error rate above 5%`,
    });
    if (p.userFacing) {
      slos.push({
        name: `${p.name}-availability`,
        service: p.name,
        objective: 99.9,
        window: "30d",
        sli: {
          errorQuery: `sum(rate(http_requests_total{service="${p.name}",code=~"5.."}[{{window}}]))`,
          totalQuery: `sum(rate(http_requests_total{service="${p.name}"}[{{window}}]))`,
        },
        channels: ["oncall-pagerduty"],
        environments: i % 3 === 0 ? { dev: { objective: 99 } } : undefined,
      });
    }
  }
  const dashboards: Json[] = namespaces.slice(1).map((ns) => ({
    name: `${ns}-overview`,
    title: `Namespace ${ns}`,
    services: plans
      .filter((p) => p.namespace === ns)
      .slice(0, 8)
      .map((p) => p.name),
    panels: [
      { title: "Requests per second", expr: `sum(rate(http_requests_total{namespace="${ns}"}[5m]))`, unit: "reqps" },
      { title: "Pods ready", type: "stat", expr: `sum(kube_pod_status_ready{namespace="${ns}",condition="true"})` },
    ],
  }));
  const component = (image: string): Json => ({ image, resources: resources(rand), replicas: 1 });

  // ---- the five documents --------------------------------------------------------------------
  const header = (name: string, what: string) =>
    `# yaml-language-server: $schema=./schema/${name}.schema.json\n#\n# Synthetic ${what} generated by bench/generate.ts (${n} services); do not edit.\napiVersion: nexus/v1\nkind: ${name[0]!.toUpperCase()}${name.slice(1)}`;

  const files: Record<string, string> = {};
  files["orchestration.yaml"] = toYaml(
    header("orchestration", "orchestration registry"),
    {
      teams: teams.map((t) => ({ name: t, channel: `${t}-slack` })),
      // A quota holds all that can run in its namespace at once (the loader checks it): it grows
      // with the services a namespace holds, with a floor for the monitoring stack.
      namespaces: namespaces.map((ns, i) => ({
        name: ns,
        owner: teams[i % teamCount]!,
        quota: { cpu: String((8 + (i % 8)) * scale), memory: `${(16 + 2 * (i % 8)) * scale}Gi`, pods: 100 * scale },
        environments:
          i % 2 === 0
            ? {
                dev: { quota: { cpu: String(4 * scale), memory: `${8 * scale}Gi`, pods: 30 * scale } },
                prod: { quota: { cpu: String(32 * scale), memory: `${64 * scale}Gi`, pods: 300 * scale } },
              }
            : undefined,
      })),
      services,
    },
    { teams: "--- teams", namespaces: "--- namespaces", services: "--- services" },
  );
  files["automation.yaml"] = toYaml(header("automation", "automation registry"), { tasks });
  files["pipelines.yaml"] = toYaml(header("pipelines", "pipelines registry"), {
    environments: [
      { name: "dev", stack: "dev", secrets: { passphrase: "PULUMI_CONFIG_PASSPHRASE" } },
      {
        name: "staging",
        stack: "staging",
        secrets: { passphrase: "PULUMI_CONFIG_PASSPHRASE", backendUrl: "PULUMI_BACKEND_URL", kubeconfig: "KUBECONFIG_STAGING", awsRoleArn: "AWS_ROLE_ARN" },
      },
      {
        name: "prod",
        stack: "prod",
        approval: { required: true, reviewers: ["sre-leads"], waitMinutes: 10 },
        secrets: { passphrase: "PULUMI_CONFIG_PASSPHRASE", backendUrl: "PULUMI_BACKEND_URL", kubeconfig: "KUBECONFIG_PROD", awsRoleArn: "AWS_ROLE_ARN" },
      },
    ],
    promotion: [...ENVIRONMENTS],
    pipelines: [
      {
        name: "pull-request",
        trigger: "pull-request",
        stages: [
          { name: "validate", type: "validate" },
          { name: "test", type: "test" },
          { name: "preview", type: "preview", targets: ["dev", "staging"] },
        ],
      },
      {
        name: "release",
        trigger: "push-main",
        stages: [
          { name: "deploy-staging", type: "deploy", targets: ["staging"] },
          { name: "deploy-prod", type: "deploy", targets: ["prod"] },
        ],
      },
      {
        name: "nightly-drift",
        trigger: "schedule",
        schedule: "0 6 * * *",
        stages: [{ name: "drift", type: "drift", targets: ["staging", "prod"], policyGate: false }],
      },
    ],
  });
  files["monitoring.yaml"] = toYaml(header("monitoring", "monitoring registry"), {
    stack: {
      mode: "standalone",
      owner: teams[0]!,
      namespace: "observability",
      scrapeInterval: "30s",
      retention: "15d",
      prometheus: component("docker.io/library/prometheus:2.54.1"),
      alertmanager: component("docker.io/library/alertmanager:0.27.0"),
      grafana: component("docker.io/library/grafana:11.2.0"),
      kubeStateMetrics: { image: "docker.io/library/kube-state-metrics:2.16.0", resources: resources(rand) },
      environments: { dev: { retention: "2d" }, prod: { retention: "30d", prometheus: { replicas: 2 } } },
    },
    routing: { critical: ["oncall-pagerduty", channelNames[3]!], warning: [channelNames[3]!], info: ["ops-email"], groupWait: "30s", repeatInterval: "4h" },
    channels,
    alerts,
    slos,
    dashboards,
  });
  files["security.yaml"] = toYaml(header("security", "security registry"), {
    podSecurity: { level: "restricted", environments: { dev: { level: "baseline" } } },
    network: {
      defaultDeny: true,
      allowDns: true,
      egress: [
        { name: "aws-s3", description: "Backups to S3.", cidrs: ["52.216.0.0/15", "3.5.0.0/19"], ports: [443] },
        { name: "smtp", cidrs: ["10.20.0.0/16"], ports: [587], namespaces: ["observability"] },
      ],
      environments: { dev: { defaultDeny: false } },
    },
    imageRegistries: IMAGE_REGISTRIES,
    rbac: teams.slice(0, 3).map((t, i) => ({
      name: `${t}-deployers`,
      owner: t,
      namespaces: namespaces.slice(1 + i, 3 + i),
      subjects: [{ kind: "Group", name: `${t}@nexus.example` }],
      rules: [{ apiGroups: ["", "apps"], resources: ["deployments", "pods"], verbs: ["get", "list", "watch", "patch"] }],
    })),
    policies: POLICY_IDS.map((id, i) => ({
      id,
      enforcement: i % 7 === 6 ? "advisory" : "mandatory",
      environments: i % 5 === 0 ? { dev: { enforcement: "advisory" } } : undefined,
    })),
    exceptions: [
      {
        policy: "read-only-root-filesystem",
        resource: plans[0]!.name,
        owner: teams[0]!,
        reason: "Writes a cache to its root filesystem until v2.",
        appliesTo: ["dev", "staging"],
        granted: "2026-01-01",
        expires: "2099-12-31",
      },
    ],
    audit: { task: "security-audit" },
  });

  fs.mkdirSync(dir, { recursive: true });
  const sizes: Record<string, number> = {};
  for (const name of REGISTRY_FILE_NAMES) {
    const text = files[name]!;
    fs.writeFileSync(path.join(dir, name), text);
    sizes[name] = Buffer.byteLength(text);
  }
  return {
    services: n,
    tasks: tasks.length,
    alerts: alerts.length,
    slos: slos.length,
    bytes: Object.values(sizes).reduce((a, b) => a + b, 0),
    files: sizes,
  };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const services = Number(get("--services") ?? "100");
  const out = get("--out") ?? path.join(__dirname, "out", String(services), "registries");
  const stats = generateRegistries(out, { services, seed: get("--seed") ? Number(get("--seed")) : undefined });
  console.log(
    `wrote ${out}: ${stats.services} services, ${stats.tasks} tasks, ${stats.alerts} alerts, ${stats.slos} SLOs, ${(stats.bytes / 1024).toFixed(0)} KiB`,
  );
}
