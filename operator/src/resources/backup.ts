import type { V1CronJob, V1EnvVar } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { paths } from "./assistant-config.js";
import { labelKeys } from "../api/labels.js";
import { assistantPodLabels, instanceLabels, ownedMetadata } from "./metadata.js";
import { serviceAccountName } from "./identity.js";
import { dataClaimName } from "./storage.js";
import { restrictedContainer, restrictedPod } from "./workload.js";

export const backupCronJobName = (aia: AIAssistant): string => `${aia.metadata.name ?? ""}-backup`;

/**
 * The scheduled backup of embedded storage: the assistant image's backup command takes a SQLite
 * online-backup snapshot (consistent while the assistant writes) and uploads it to S3. The data
 * volume is ReadWriteOnce, so the job must run on the node of the assistant's pod: a required
 * pod affinity puts it there (while the assistant is scaled to zero it waits, and nothing changes).
 */
export function backupCronJob(aia: AIAssistant): V1CronJob | undefined {
  const { backup, storage } = aia.spec;
  if (!backup.enabled || !backup.s3 || storage.mode !== "embedded") return undefined;
  const { s3 } = backup;
  const credentials = (key: string): V1EnvVar => ({ name: key, valueFrom: { secretKeyRef: { name: s3.credentialsSecretRef.name, key } } });
  const env: V1EnvVar[] = [
    { name: "DATA_DIR", value: paths.dataDir },
    { name: "BACKUP_NAME", value: `${aia.metadata.namespace ?? ""}/${aia.metadata.name ?? ""}` },
    { name: "BACKUP_S3_BUCKET", value: s3.bucket },
    { name: "BACKUP_S3_REGION", value: s3.region },
    ...(s3.endpoint ? [{ name: "BACKUP_S3_ENDPOINT", value: s3.endpoint }] : []),
    ...(s3.prefix ? [{ name: "BACKUP_S3_PREFIX", value: s3.prefix }] : []),
    { name: "BACKUP_RETENTION_DAYS", value: String(backup.retentionDays) },
    ...(backup.retentionCount === undefined ? [] : [{ name: "BACKUP_RETENTION_COUNT", value: String(backup.retentionCount) }]),
    credentials("AWS_ACCESS_KEY_ID"),
    credentials("AWS_SECRET_ACCESS_KEY"),
  ];
  const podLabels = { ...instanceLabels(aia), [labelKeys.component]: "backup" };
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: ownedMetadata(aia, backupCronJobName(aia), { labels: { [labelKeys.component]: "backup" } }),
    spec: {
      schedule: backup.schedule,
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 3,
          activeDeadlineSeconds: 3600,
          template: {
            metadata: { labels: podLabels },
            spec: {
              restartPolicy: "Never",
              serviceAccountName: serviceAccountName(aia),
              automountServiceAccountToken: false,
              securityContext: restrictedPod,
              affinity: {
                podAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    {
                      topologyKey: "kubernetes.io/hostname",
                      labelSelector: { matchLabels: assistantPodLabels(aia) },
                    },
                  ],
                },
              },
              containers: [
                {
                  name: "backup",
                  image: aia.spec.image,
                  ...(aia.spec.imagePullPolicy ? { imagePullPolicy: aia.spec.imagePullPolicy } : {}),
                  command: ["node", "dist/src/backup/main.js", "backup"],
                  env,
                  volumeMounts: [
                    { name: "data", mountPath: paths.dataDir },
                    { name: "tmp", mountPath: paths.tmpDir },
                  ],
                  securityContext: restrictedContainer,
                },
              ],
              volumes: [
                { name: "data", persistentVolumeClaim: { claimName: dataClaimName(aia) } },
                { name: "tmp", emptyDir: {} },
              ],
            },
          },
        },
      },
    },
  };
}
