/**
 * The parts of the monitoring stack whose pods read the Kubernetes API with their service account's
 * token (node discovery and scrapes, object metrics): the monitoring components mount a token
 * for them, and the policy pack's config admits exactly these names beside the registries' own.
 */
export const MONITORING_API_READERS = ["prometheus", "kube-state-metrics"] as const;
