import { z } from "zod";
import { Cron, Description, Name, header } from "./common";

const SecretName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: "must be a CI secret or variable name (A-Z, 0-9, _)" });

export const Environment = z.strictObject({
  name: Name,
  stack: Name.describe("Pulumi stack deployed for this environment"),
  production: z.boolean().default(false).describe("Production gets the floor of domain/floors.ts; the last environment of the promotion order always does"),
  approval: z
    .strictObject({
      required: z.boolean().default(false),
      reviewers: z.array(z.string().min(1)).default([]),
      waitMinutes: z.number().int().min(0).default(0),
    })
    .prefault({}),
  secrets: z
    .strictObject({
      passphrase: SecretName.optional(),
      backendUrl: SecretName.optional(),
      kubeconfig: SecretName.optional(),
      awsRoleArn: SecretName.optional(),
    })
    .prefault({}),
});
export type Environment = z.infer<typeof Environment>;

export const STAGE_TYPES = ["validate", "test", "preview", "audit", "deploy", "drift"] as const;

export const Stage = z.strictObject({
  name: Name,
  type: z.enum(STAGE_TYPES),
  targets: z.array(Name).default([]).describe("Environments this stage runs for, by name"),
  policyGate: z.boolean().default(true),
});
export type Stage = z.infer<typeof Stage>;

export const Pipeline = z.strictObject({
  name: Name,
  description: Description.optional(),
  trigger: z.enum(["pull-request", "push-main", "schedule", "manual"]),
  schedule: Cron.optional(),
  stages: z.array(Stage).min(1),
});
export type Pipeline = z.infer<typeof Pipeline>;

export const PipelinesRegistry = z.strictObject({
  ...header("Pipelines"),
  environments: z.array(Environment).min(1),
  promotion: z.array(Name).min(1).describe("Order in which a change reaches the environments"),
  pipelines: z.array(Pipeline).default([]),
});
export type PipelinesRegistry = z.infer<typeof PipelinesRegistry>;
