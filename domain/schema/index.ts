export * from "./common";
export * from "./orchestration";
export * from "./automation";
export * from "./pipelines";
export * from "./monitoring";
export * from "./security";
export * from "./policies";
export * from "./values";
export { cronProblem } from "./cron";

import { AutomationRegistry } from "./automation";
import { MonitoringRegistry } from "./monitoring";
import { OrchestrationRegistry } from "./orchestration";
import { PipelinesRegistry } from "./pipelines";
import { SecurityRegistry } from "./security";

/** The five registry files, in the order they are read and reported. */
export const REGISTRY_FILES = {
  orchestration: { file: "orchestration.yaml", kind: "Orchestration", schema: OrchestrationRegistry },
  automation: { file: "automation.yaml", kind: "Automation", schema: AutomationRegistry },
  pipelines: { file: "pipelines.yaml", kind: "Pipelines", schema: PipelinesRegistry },
  monitoring: { file: "monitoring.yaml", kind: "Monitoring", schema: MonitoringRegistry },
  security: { file: "security.yaml", kind: "Security", schema: SecurityRegistry },
} as const;
export type RegistryKey = keyof typeof REGISTRY_FILES;
