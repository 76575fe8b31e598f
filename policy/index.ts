/**
 * The NEXUS compliance gate: `pulumi preview --policy-pack policy --policy-pack-config FILE`,
 * where FILE comes from `nexus policy-config --env NAME` (enforcement per environment and the
 * exceptions of registries/security.yaml).
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT, PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  policies: [...policies],
  enforcementLevel: PACK_ENFORCEMENT,
  description: "NEXUS platform compliance gate driven by registries/security.yaml",
});
