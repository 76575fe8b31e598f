import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { Edge } from "../../components/builders/network";
import { ServiceDeployment, configChecksum, topologySpread, type ServiceDeploymentArgs } from "../../components/serviceDeployment";
import type { ResolvedService } from "../../domain/model";
import { SECRET_SIG, runMocked, type MockRun } from "../../internal/pulumi/mocks";
import { WIRE } from "../../internal/pulumi/sdk";
import { RESTRICTED_CONTAINER } from "../support/expectations";
import { context, database, service } from "../support/fixtures";
import { expectComponentTree, kubeInputs, kubeObject } from "../support/inputs";
import { expectNoPlaintextSecret } from "../support/secrets";

const PARENT = "nexus:workloads:ServiceDeployment";
const T = {
  sa: "kubernetes:core/v1:ServiceAccount",
  cm: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  svc: "kubernetes:core/v1:Service",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
} as const;

const API = service({
  owner: "backend",
  image: "ghcr.io/example/api:1.2.3",
  replicas: 3,
  autoscaling: { minReplicas: 3, maxReplicas: 9, targetCPUUtilization: 65 },
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  probes: {
    liveness: { type: "http", path: "/healthz", initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readiness: { type: "http", path: "/readyz", port: 8001, initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 1, failureThreshold: 2 },
  },
  dependsOn: ["db"],
  env: { LOG_LEVEL: "info", DATABASE_HOST: "db.data.svc.cluster.local" },
  secrets: [
    { env: "DATABASE_PASSWORD", configKey: "dbPassword" },
    { env: "JWT_SIGNING_KEY", configKey: "jwtKey" },
  ],
  exposure: "public",
  userFacing: true,
  metrics: { path: "/metrics", port: 9090 },
  topologySpread: true,
  source: "registries/orchestration.yaml:120",
});

// database() without its password: no Secret among its children.
const DB = database({
  secrets: [],
  storage: { size: "20Gi", storageClass: "gp3", mountPath: "/var/lib/postgresql/data" },
  source: "registries/orchestration.yaml:60",
});

const EDGES: Edge[] = [
  { from: { namespace: "core", name: "api" }, to: { namespace: "data", name: "db" }, port: 5432, reason: "api dependsOn db" },
  { from: { namespace: "web", name: "web" }, to: { namespace: "core", name: "api" }, port: 8000, reason: "web dependsOn api" },
  { from: { namespace: "observability", name: "prometheus" }, to: { namespace: "core", name: "api" }, port: 9090, reason: "prometheus scrapes api" },
  // Not touching api: must not appear in its policy.
  { from: { namespace: "web", name: "web" }, to: { namespace: "data", name: "db" }, port: 5432, reason: "web dependsOn db" },
];

// Plain strings on purpose: the component must mark them secret itself.
const SECRETS = { dbPassword: "s3cr3t-dbPassword", jwtKey: "s3cr3t-jwtKey" };

function args(s: ResolvedService, overrides: Partial<ServiceDeploymentArgs> = {}): ServiceDeploymentArgs {
  return {
    context: context(),
    service: s,
    namespace: s.namespace,
    edges: EDGES,
    secrets: SECRETS,
    ...overrides,
  };
}

function deploy(a: ServiceDeploymentArgs): Promise<MockRun> {
  return runMocked(() => {
    const d = new ServiceDeployment(a.service.name, a);
    return { address: d.address, kind: d.workloadKind, serviceName: d.serviceName };
  });
}

const inputs = kubeInputs;

const labelsFor = (s: ResolvedService, env = "prod") => ({
  "app.kubernetes.io/name": s.name,
  "app.kubernetes.io/instance": `${s.name}-${env}`,
  "app.kubernetes.io/component": "service",
  "app.kubernetes.io/part-of": "nexus-platform",
  "app.kubernetes.io/managed-by": "pulumi",
  "nexus.platform/owner": s.owner,
  "nexus.platform/environment": env,
});
const SELECTOR = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "nexus-platform" });

describe("ServiceDeployment (stateless, autoscaled, public)", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await deploy(args(API));
  });

  it("creates exactly these children under the component", () => {
    expectComponentTree(run, PARENT, "api", {
      [T.sa]: ["api-sa"],
      [T.cm]: ["api-env"],
      [T.secret]: ["api-secrets"],
      [T.svc]: ["api-svc", "api-pods"],
      [T.deployment]: ["api-deployment"],
      [T.hpa]: ["api-hpa"],
      [T.pdb]: ["api-pdb"],
      [T.netpol]: ["api-netpol"],
    });
    expect(run.outputs).toEqual({ address: "api.core.svc.cluster.local:8000", kind: "Deployment", serviceName: "api" });
  });

  it("lists its ready pods for Prometheus through a headless Service on the metrics port", () => {
    const pods = inputs(run, T.svc, "api-pods");
    expect(pods.metadata.name).toBe("api-pods");
    expect(pods.spec.clusterIP).toBe("None");
    expect(pods.spec.selector).toEqual(inputs(run, T.svc, "api-svc").spec.selector);
    expect(pods.spec.ports).toEqual([{ name: "metrics", port: API.metrics!.port ?? API.port, targetPort: API.metrics!.port ?? API.port, protocol: "TCP" }]);
    // Ready pods only: a pod whose readiness fails leaves the DNS answer, and Prometheus stops scraping it.
    expect(pods.spec.publishNotReadyAddresses).toBeUndefined();
  });

  it("labels and traces every resource", () => {
    for (const r of run.resources.filter((x) => x.type !== PARENT)) {
      const meta = kubeObject(r).metadata;
      expect(meta.labels, r.name).toEqual(labelsFor(API));
      expect(meta.annotations["nexus.platform/source"], r.name).toBe("registries/orchestration.yaml:120");
      expect(meta.annotations["pulumi.com/skipAwait"], r.name).toBeUndefined();
      expect(meta.namespace, r.name).toBe("core");
    }
  });

  it("leaves the replica count to the autoscaler", () => {
    const d = inputs(run, T.deployment, "api-deployment");
    expect("replicas" in d.spec).toBe(false);
    expect(d.spec.selector).toEqual({ matchLabels: SELECTOR("api") });
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(inputs(run, T.hpa, "api-hpa").spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
      minReplicas: 3,
      maxReplicas: 9,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 65 } } }],
    });
    expect(inputs(run, T.pdb, "api-pdb").spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: SELECTOR("api") } });
  });

  it("runs a hardened pod with the registry's probes, resources, config and secrets", () => {
    const template = inputs(run, T.deployment, "api-deployment").spec.template;
    expect(template.metadata).toEqual({
      labels: { ...labelsFor(API), ...SELECTOR("api") },
      annotations: {
        "nexus.platform/source": "registries/orchestration.yaml:120",
        "checksum/config": configChecksum(API.env),
      },
    });
    expect(template.spec).toEqual({
      serviceAccountName: "api",
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        fsGroup: 10001,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "api",
          image: "ghcr.io/example/api:1.2.3",
          ports: [
            { name: "http", containerPort: 8000, protocol: "TCP" },
            { name: "metrics", containerPort: 9090, protocol: "TCP" },
          ],
          // Its dependsOn, as the egress paths its NetworkPolicy opens: db only, not web's db.
          env: [
            { name: "PORT", value: "8000" },
            { name: "NEXUS_DEPENDENCIES", value: "db.data.svc.cluster.local:5432" },
          ],
          envFrom: [{ configMapRef: { name: "api-env" } }, { secretRef: { name: "api-secrets" } }],
          resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
          livenessProbe: {
            httpGet: { path: "/healthz", port: 8000 },
            initialDelaySeconds: 10,
            periodSeconds: 10,
            timeoutSeconds: 2,
            failureThreshold: 3,
          },
          readinessProbe: {
            httpGet: { path: "/readyz", port: 8001 },
            initialDelaySeconds: 5,
            periodSeconds: 5,
            timeoutSeconds: 1,
            failureThreshold: 2,
          },
          securityContext: RESTRICTED_CONTAINER,
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
      ],
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
      topologySpreadConstraints: topologySpread("api"),
    });
    expect(topologySpread("api")).toEqual([
      { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: SELECTOR("api") } },
      { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: SELECTOR("api") } },
    ]);
    expect(inputs(run, T.sa, "api-sa").automountServiceAccountToken).toBe(false);
    expect(inputs(run, T.sa, "api-sa").metadata.annotations).toEqual({
      "nexus.platform/source": "registries/orchestration.yaml:120",
      "pulumi.com/patchForce": "true",
    });
  });

  it("puts plain config in the ConfigMap and secrets, marked secret, in the Secret", () => {
    const cm = inputs(run, T.cm, "api-env");
    expect(cm.metadata.name).toBe("api-env");
    expect(cm.data).toEqual({ LOG_LEVEL: "info", DATABASE_HOST: "db.data.svc.cluster.local" });
    const secret = inputs(run, T.secret, "api-secrets");
    expect(secret.metadata.name).toBe("api-secrets");
    expect(secret.type).toBe("Opaque");
    // The whole stringData travels as one secret value.
    expect(secret.stringData).toEqual({
      [SECRET_SIG]: WIRE.secret,
      value: { DATABASE_PASSWORD: "s3cr3t-dbPassword", JWT_SIGNING_KEY: "s3cr3t-jwtKey" },
    });
    expectNoPlaintextSecret(run);
  });

  it("opens exactly the service's paths plus its public port", () => {
    const np = inputs(run, T.netpol, "api-netpol");
    expect(np.metadata.name).toBe("api-allow");
    expect(np.spec).toEqual({
      podSelector: { matchLabels: SELECTOR("api") },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "web" } },
              podSelector: { matchLabels: SELECTOR("web") },
            },
          ],
          ports: [{ protocol: "TCP", port: 8000 }],
        },
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } },
              podSelector: { matchLabels: SELECTOR("prometheus") },
            },
          ],
          ports: [{ protocol: "TCP", port: 9090 }],
        },
        { ports: [{ protocol: "TCP", port: 8000 }] },
      ],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "data" } },
              podSelector: { matchLabels: SELECTOR("db") },
            },
          ],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
    });
  });

  it("exposes a ClusterIP Service annotated with its exposure, metrics port included", () => {
    const svc = inputs(run, T.svc, "api-svc");
    expect(svc.metadata.name).toBe("api");
    expect(svc.metadata.annotations).toEqual({
      "nexus.platform/source": "registries/orchestration.yaml:120",
      "pulumi.com/patchForce": "true",
      "nexus.platform/exposure": "public",
    });
    expect(svc.spec).toEqual({
      type: "ClusterIP",
      selector: SELECTOR("api"),
      ports: [
        { name: "http", port: 8000, targetPort: 8000, protocol: "TCP" },
        { name: "metrics", port: 9090, targetPort: 9090, protocol: "TCP" },
      ],
    });
  });
});

describe("ServiceDeployment (single replica, internal, no extras)", () => {
  it("sets replicas, has no HPA, no PDB, no public ingress and no ConfigMap or Secret", async () => {
    const single: ResolvedService = {
      ...API,
      replicas: 1,
      autoscaling: undefined,
      env: {},
      secrets: [],
      exposure: "internal",
      topologySpread: false,
      metrics: { path: "/metrics", port: 8000 },
    };
    const run = await deploy(args(single, { context: context("dev", true), edges: [] }));
    expectComponentTree(run, PARENT, "api", {
      [T.sa]: ["api-sa"],
      [T.svc]: ["api-svc", "api-pods"],
      [T.deployment]: ["api-deployment"],
      [T.netpol]: ["api-netpol"],
    });
    const d = inputs(run, T.deployment, "api-deployment");
    expect(d.spec.replicas).toBe(1);
    const c = d.spec.template.spec.containers[0]!;
    expect(c.ports).toEqual([{ name: "http", containerPort: 8000, protocol: "TCP" }]);
    expect(c.envFrom).toEqual([]);
    // No path out, no NEXUS_DEPENDENCIES: only its port.
    expect(c.env).toEqual([{ name: "PORT", value: "8000" }]);
    expect("topologySpreadConstraints" in d.spec.template.spec).toBe(false);
    // Await hints on the objects, never on the pods.
    expect(d.metadata.annotations).toEqual({
      "nexus.platform/source": "registries/orchestration.yaml:120",
      "pulumi.com/patchForce": "true",
      "pulumi.com/skipAwait": "true",
      "pulumi.com/deletionPropagationPolicy": "background",
    });
    expect(d.spec.template.metadata.annotations["pulumi.com/skipAwait"]).toBeUndefined();
    expect(d.metadata.labels["nexus.platform/environment"]).toBe("dev");
    expect(inputs(run, T.netpol, "api-netpol").spec).toEqual({
      podSelector: { matchLabels: SELECTOR("api") },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [],
    });
    expect(inputs(run, T.svc, "api-svc").metadata.annotations["nexus.platform/exposure"]).toBe("internal");
  });

  it("keeps a disruption budget for two fixed replicas and drops it for an autoscaler starting at one", async () => {
    const two = await deploy(args({ ...API, autoscaling: undefined, replicas: 2 }));
    expect(two.byType(T.pdb).map((r) => r.name)).toEqual(["api-pdb"]);
    expect(inputs(two, T.deployment, "api-deployment").spec.replicas).toBe(2);
    const fromOne = await deploy(args({ ...API, replicas: 3, autoscaling: { minReplicas: 1, maxReplicas: 4, targetCPUUtilization: 75 } }));
    expect(fromOne.byType(T.pdb)).toEqual([]);
    expect(fromOne.byType(T.hpa).map((r) => r.name)).toEqual(["api-hpa"]);
  });
});

describe("ServiceDeployment (stateful)", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await deploy(args(DB, { secrets: {} }));
  });

  it("creates a StatefulSet behind a headless Service, and no Deployment", () => {
    expectComponentTree(run, PARENT, "db", {
      [T.sa]: ["db-sa"],
      [T.svc]: ["db-svc", "db-headless"],
      [T.statefulSet]: ["db-statefulset"],
      [T.netpol]: ["db-netpol"],
    });
    expect(run.byType(T.deployment)).toEqual([]);
    expect(run.outputs).toEqual({ address: "db.data.svc.cluster.local:5432", kind: "StatefulSet", serviceName: "db" });
  });

  it("claims storage of the registry's size and class and mounts it", () => {
    const sts = inputs(run, T.statefulSet, "db-statefulset");
    expect(sts.metadata.annotations).toEqual({
      "nexus.platform/source": "registries/orchestration.yaml:60",
      "pulumi.com/patchForce": "true",
      "nexus.platform/stateful": "true",
    });
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe("db-headless");
    expect(sts.spec.selector).toEqual({ matchLabels: SELECTOR("db") });
    expect(sts.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: "data", labels: SELECTOR("db") },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } }, storageClassName: "gp3" },
      },
    ]);
    const c = sts.spec.template.spec.containers[0]!;
    expect(c.volumeMounts).toEqual([
      { name: "tmp", mountPath: "/tmp" },
      { name: "data", mountPath: "/var/lib/postgresql/data" },
    ]);
    expect(sts.spec.template.spec.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }]);
    // db calls nothing: no NEXUS_DEPENDENCIES, only its port.
    expect(c.env).toEqual([{ name: "PORT", value: "5432" }]);
    expect(c.ports).toEqual([{ name: "tcp", containerPort: 5432, protocol: "TCP" }]);
    expect(c.livenessProbe).toEqual({ tcpSocket: { port: 5432 }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
    expect(inputs(run, T.svc, "db-headless")).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "db-headless",
        namespace: "data",
        labels: labelsFor(DB),
        annotations: { "nexus.platform/source": "registries/orchestration.yaml:60", "pulumi.com/patchForce": "true", "nexus.platform/exposure": "internal" },
      },
      spec: { clusterIP: "None", selector: SELECTOR("db"), ports: [{ name: "tcp", port: 5432, targetPort: 5432 }] },
    });
    // Ingress from api and web, egress none: only edges touching db.
    const np = inputs(run, T.netpol, "db-netpol").spec;
    expect(np.ingress.map((r) => r.from[0]!.podSelector.matchLabels["app.kubernetes.io/name"])).toEqual(["api", "web"]);
    expect(np.egress).toEqual([]);
  });

  it("mounts an emptyDir at each writable path, beside /tmp and the storage, under a read-only root", async () => {
    const writable = await deploy(args({ ...DB, writablePaths: ["/var/run/postgresql", "/var/log/postgresql"] }, { secrets: {} }));
    const spec = inputs(writable, T.statefulSet, "db-statefulset").spec.template.spec;
    expect(spec.volumes).toEqual([
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
      { name: "writable-0", emptyDir: { sizeLimit: "64Mi" } },
      { name: "writable-1", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    const c = spec.containers[0]!;
    expect(c.volumeMounts).toEqual([
      { name: "tmp", mountPath: "/tmp" },
      { name: "writable-0", mountPath: "/var/run/postgresql" },
      { name: "writable-1", mountPath: "/var/log/postgresql" },
      { name: "data", mountPath: "/var/lib/postgresql/data" },
    ]);
    expect(c.securityContext).toEqual(RESTRICTED_CONTAINER);
  });

  it("omits the storage class when the registry has none", async () => {
    const noClass = await deploy(args({ ...DB, storage: { size: "5Gi", mountPath: "/data" } }, { secrets: {} }));
    expect(inputs(noClass, T.statefulSet, "db-statefulset").spec.volumeClaimTemplates[0]!.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "5Gi" } },
    });
  });
});

describe("ServiceDeployment dependencies", () => {
  it("tells the process every dependency's address, in dependsOn order", async () => {
    const edges: Edge[] = [
      { from: { namespace: "core", name: "api" }, to: { namespace: "data", name: "cache" }, port: 6379, reason: "api dependsOn cache" },
      ...EDGES,
    ];
    const run = await deploy(args(API, { edges }));
    const c = inputs(run, T.deployment, "api-deployment").spec.template.spec.containers[0]!;
    expect(c.env).toEqual([
      { name: "PORT", value: "8000" },
      { name: "NEXUS_DEPENDENCIES", value: "cache.data.svc.cluster.local:6379,db.data.svc.cluster.local:5432" },
    ]);
  });
});

describe("ServiceDeployment secrets", () => {
  it("refuses a secret that is not set before registering anything, naming the command that sets it", () => {
    // Checked before anything is registered: no Pulumi runtime is needed to see the refusal.
    expect(() => new ServiceDeployment("api", args(API, { secrets: { dbPassword: pulumi.secret("s3cr3t-dbPassword") } }))).toThrow(
      'service api (registries/orchestration.yaml:120) references secret "jwtKey", which is not set: ' + "run `pulumi config set --secret jwtKey VALUE`",
    );
  });

  it("keeps already-secret values secret", async () => {
    const run = await deploy(args(API, { secrets: { dbPassword: pulumi.secret("s3cr3t-a"), jwtKey: pulumi.secret("s3cr3t-b") } }));
    const data = inputs(run, T.secret, "api-secrets").stringData;
    expect(data).toEqual({
      [SECRET_SIG]: WIRE.secret,
      value: { DATABASE_PASSWORD: "s3cr3t-a", JWT_SIGNING_KEY: "s3cr3t-b" },
    });
  });
});

describe("configChecksum", () => {
  it("ignores key order and changes with any value", () => {
    expect(configChecksum({ A: "1", B: "2" })).toBe(configChecksum({ B: "2", A: "1" }));
    expect(configChecksum({ A: "1", B: "2" })).not.toBe(configChecksum({ A: "1", B: "3" }));
    expect(configChecksum({})).toMatch(/^[0-9a-f]{64}$/);
  });
});
