/** Stand-ins the backup and restore script tests run the generated scripts with. */

/**
 * An aws CLI stand-in over a folder, one subfolder per bucket: cp (both ways), rm,
 * list-objects-v2 (as `--query 'Contents[].[Key]' --output text` prints: keys, or None),
 * head-bucket and create-bucket. Every call is logged, one line each, to $AWS_LOG.
 */
export const FAKE_AWS = `#!/bin/sh
echo "$*" >>"$AWS_LOG"
if [ "$1" = --endpoint-url ]; then shift 2; fi
case "$1 $2" in
  "s3 cp")
    shift 2
    while [ "\${1#--}" != "$1" ]; do case "$1" in --sse | --sse-kms-key-id) shift 2 ;; *) shift ;; esac; done
    if [ "\${1#s3://}" != "$1" ]; then cp "$FAKE_S3/\${1#s3://}" "$2"; else mkdir -p "$(dirname "$FAKE_S3/\${2#s3://}")"; cp "$1" "$FAKE_S3/\${2#s3://}"; fi ;;
  "s3 rm") rm "$FAKE_S3/\${4#s3://}" ;;
  "s3api list-objects-v2") (cd "$FAKE_S3/$4" && find . -type f | sed 's|^[.]/||' | grep "^$6") || echo None ;;
  "s3api head-bucket") [ -d "$FAKE_S3/$4" ] ;;
  "s3api create-bucket") mkdir -p "$FAKE_S3/$4" ;;
  *) echo "fake aws: $*" >&2; exit 2 ;;
esac
`;

/** A backup name `<task>-<UTC timestamp><ext>` of a backup taken `days` ago. */
export function nameDaysAgo(task: string, days: number, ext = ".sql.gz"): string {
  const d = new Date(Date.now() - days * 86_400_000);
  return `${task}-${d.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z${ext}`;
}
