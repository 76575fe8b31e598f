/**
 * Pulumi type tokens of the resources the program registers and the policy pack inspects: one
 * table for the program, the pack and the tests. Pure constants, no imports.
 */

export const K8S = {
  Deployment: "kubernetes:apps/v1:Deployment",
  StatefulSet: "kubernetes:apps/v1:StatefulSet",
  DaemonSet: "kubernetes:apps/v1:DaemonSet",
  ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
  Job: "kubernetes:batch/v1:Job",
  CronJob: "kubernetes:batch/v1:CronJob",
  Pod: "kubernetes:core/v1:Pod",
  Service: "kubernetes:core/v1:Service",
  ServiceAccount: "kubernetes:core/v1:ServiceAccount",
  Namespace: "kubernetes:core/v1:Namespace",
  ConfigMap: "kubernetes:core/v1:ConfigMap",
  Secret: "kubernetes:core/v1:Secret",
  PersistentVolumeClaim: "kubernetes:core/v1:PersistentVolumeClaim",
  ResourceQuota: "kubernetes:core/v1:ResourceQuota",
  LimitRange: "kubernetes:core/v1:LimitRange",
  NetworkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  Role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  ClusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  RoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
  ClusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  PodDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
  HorizontalPodAutoscaler: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  PrometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
  Provider: "pulumi:providers:kubernetes",
} as const;

/** AWS types by role; where the provider has two generations of a type, both count. */
export const AWS = {
  buckets: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  lifecycle: ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"],
  bucketPolicy: ["aws:s3/bucketPolicy:BucketPolicy"],
  kmsKey: "aws:kms/key:Key",
  iamPolicies: ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"],
  iamRole: "aws:iam/role:Role",
} as const;
