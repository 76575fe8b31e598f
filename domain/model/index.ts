import type {
  Alert,
  Channel,
  Dashboard,
  Enforcement,
  Environment,
  MonitoringRegistry,
  Namespace,
  Pipeline,
  PolicyException,
  PolicyId,
  SecurityRegistry,
  Service,
  Slo,
  Task,
  Team,
} from "../schema";

/** Where an entry is written, "registries/orchestration.yaml:12": shown on every resource. */
export interface Sourced {
  readonly source: string;
}

// Distributes over unions, so a resolved channel keeps its per-type fields.
type Resolved<T> = T extends unknown ? Readonly<Omit<T, "environments">> & Sourced : never;

export type ResolvedService = Resolved<Service>;
export type ResolvedTask = Resolved<Task>;
export type ResolvedTeam = Resolved<Team>;
export type ResolvedNamespace = Resolved<Namespace>;
export type ResolvedAlert = Resolved<Alert>;
export type ResolvedSlo = Resolved<Slo>;
export type ResolvedChannel = Resolved<Channel>;
export type ResolvedDashboard = Resolved<Dashboard>;
/** `pending`: granted after the day judged, so not yet in force (a future grant date cannot stretch an exception's life). */
export type ResolvedException = Resolved<PolicyException> & { readonly expired: boolean; readonly pending: boolean };

/**
 * The one read-only model of the platform for one environment: every registry validated,
 * cross-checked and resolved. Components receive parts of it and nothing else.
 */
export interface Model {
  readonly environment: Resolved<Environment>;
  readonly promotion: readonly string[];
  readonly environments: readonly Resolved<Environment>[];
  readonly pipelines: readonly Resolved<Pipeline>[];
  readonly teams: readonly ResolvedTeam[];
  readonly namespaces: readonly ResolvedNamespace[];
  readonly services: readonly ResolvedService[];
  readonly tasks: readonly ResolvedTask[];
  readonly monitoring: Readonly<{
    stack: Readonly<Omit<MonitoringRegistry["stack"], "environments">> & Sourced;
    routing: MonitoringRegistry["routing"];
    channels: readonly ResolvedChannel[];
    alerts: readonly ResolvedAlert[];
    slos: readonly ResolvedSlo[];
    dashboards: readonly ResolvedDashboard[];
  }>;
  readonly security: Readonly<{
    podSecurity: Readonly<{ level: SecurityRegistry["podSecurity"]["level"] }> & Sourced;
    network: Readonly<Omit<SecurityRegistry["network"], "environments">> & Sourced;
    /** The registries images may come from in this environment: plain entries and those scoped to it. */
    imageRegistries: readonly string[];
    rbac: readonly Resolved<SecurityRegistry["rbac"][number]>[];
    /** Enforcement of every catalog policy in this environment (unlisted policies are mandatory). */
    enforcement: Readonly<Record<PolicyId, Enforcement>>;
    exceptions: readonly ResolvedException[];
    audit: SecurityRegistry["audit"];
  }>;
}
