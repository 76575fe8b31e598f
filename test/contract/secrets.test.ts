/**
 * The literal-secret detector, as a table: each row a name, a value and whether the pair holds a
 * secret (with the start of the reason). Token-format values are assembled from parts, so that
 * secret scanners reading this file do not take the test vectors for leaked credentials.
 */
import { describe, expect, it } from "vitest";
import { nameTokens, secretFinding, secretNameFinding, shannonEntropy } from "../../contract/secrets";

/** Random base62 strings, as generated keys and passwords look. */
const RANDOM_24 = "ovpLPtrC7Ep42wY8I7e2pk5X";
const RANDOM_32 = "5h6PETDC1lpLpuBSSw0biOGI3jpGkJGR";
const RANDOM_40 = "VhdG6MRswmdDF11qrTh5THuq9hMUgrSO5ALxIHd8";
const HEX_32 = "2864e4924ad0d458c267918b764887c7";
const HEX_64 = `${HEX_32}${HEX_32.split("").reverse().join("")}`;

const join = (...parts: string[]) => parts.join("");
const b64 = (text: string) => Buffer.from(text).toString("base64");

/** name, value, the start of the reason. */
const POSITIVES: [string, string, string][] = [
  // The names the old word list missed.
  ["DB_PASS", "hunter2", 'its name says it is a password ("pass")'],
  ["DB_PWD", "hunter2", 'its name says it is a password ("pwd")'],
  ["SESSION_KEY", "keyboard-cat", 'its name says it is a secret key ("session key")'],
  ["JWT_SIGNING_KEY_B64", "c2lnbmluZy1rZXk=", 'its name says it is a secret key ("signing key")'],
  // Names.
  ["DATABASE_PASSWORD", "hunter2", 'its name says it is a password ("password")'],
  ["API_TOKEN", "abc123", 'its name says it is a token ("token")'],
  ["MONITOR_API_TOKEN", "changeme-4242", 'its name says it is a token ("token")'],
  ["PGPASSWORD", "postgres", 'its name says it is a password ("pgpassword")'],
  ["MYSQL_ROOT_PASSWORD", "123456", 'its name says it is a password ("password")'],
  ["dbPassword", "hunter2", 'its name says it is a password ("password")'],
  ["clientSecret", "s3cr3t", 'its name says it is a secret ("secret")'],
  ["apiKey", "xyz", 'its name says it is a secret key ("api key")'],
  ["OPENAI_APIKEY", "xyz", 'its name says it is an API key ("apikey")'],
  ["AWS_SECRET_ACCESS_KEY", "abc", 'its name says it is a secret ("secret")'],
  ["ENCRYPTION_KEY", "0123456789abcdef", 'its name says it is a secret key ("encryption key")'],
  ["MASTER_KEY", "m4ster", 'its name says it is a secret key ("master key")'],
  ["TLS_PRIVATE_KEY", "inline", 'its name says it is a secret key ("private key")'],
  ["GPG_PRIVATE", "inline", 'its name says it is a private key ("private")'],
  ["BASIC_AUTH", "admin:admin", 'its name says it is credentials ("auth")'],
  ["SENTRY_DSN", "https://abc123@o1.ingest.sentry.io/42", 'its name says it is a data source name, which carries credentials ("dsn")'],
  ["CONNECTION_STRING", "Server=db;User Id=app;Database=app", 'its name says it is a connection string, which carries credentials ("connection string")'],
  ["HTPASSWD", "admin:$apr1$abc$def", 'its name says it is a password file\'s content ("htpasswd")'],
  ["nexus-platform:postgresPassword", "hunter2", 'its name says it is a password ("password")'],
  ["PAGERDUTY_ROUTING_KEY", HEX_32, "its value is a PagerDuty integration key"],
  // Token formats, whatever the name (an access key id under its own allow-listed name too).
  ["AWS_ACCESS_KEY_ID", join("AK", "IA", "QWERTYUIOPASDFGH"), "its value is an AWS access key id (AKIA/ASIA)"],
  ["SOME_VALUE", join("AS", "IA", "QWERTYUIOPASDFGH"), "its value is an AWS access key id (AKIA/ASIA)"],
  ["CI", join("gh", "p_", RANDOM_40.slice(0, 36)), "its value is a GitHub token"],
  ["CI", join("github", "_pat_", RANDOM_24, "_", RANDOM_40), "its value is a GitHub fine-grained personal access token"],
  ["CHAT", join("xo", "xb-", "1234567890-", RANDOM_24), "its value is a Slack token"],
  ["PAYMENTS", join("sk", "_live_", RANDOM_24), "its value is a Stripe secret key"],
  ["MAPS", join("AI", "za", RANDOM_32, "_-x"), "its value is a Google API key"],
  ["SIGNER", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "its value is a private key (PEM)"],
  [
    "SIGNER",
    `client-key-data: ${b64("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----\n")}`,
    "its value is a base64-encoded private key (PEM)",
  ],
  ["SAMPLE", join("eyJhbGciOiJIUzI1NiJ9", ".", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", ".", RANDOM_32), "its value is a JSON Web Token"],
  ["EXTRA_HEADER", `Bearer ${RANDOM_24}`, "its value is an HTTP Authorization credential"],
  // Webhooks and URLs with credentials, even under *_URL names.
  [
    "SLACK_WEBHOOK_URL",
    join("https://hooks.", "slack.com/services/", "T0A1B2C3D/B4E5F6G7H/", RANDOM_24),
    "its value is a Slack webhook URL, whose path is its token",
  ],
  ["ALERT_TARGET", `https://events.pagerduty.com/integration/${HEX_32}/enqueue`, "its value is a PagerDuty integration URL"],
  ["DISCORD_URL", `https://discord.com/api/webhooks/123456789/${RANDOM_40}`, "its value is a Discord webhook URL"],
  ["TEAMS_URL", `https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/${HEX_32}/xyz`, "its value is a webhook URL with a token in its path"],
  ["BUILD_HOOK", `https://ci.example.com/hooks/${HEX_32}`, "its value is a webhook URL with a token in its path"],
  ["NOTIFY_URL", "https://notify.example.com/send?channel=ops&token=abc123", 'its value is a URL with a credential in its "token" parameter'],
  ["BLOB_URL", "https://acct.blob.core.windows.net/backups?sv=2022-11-02&sig=abc%2Bdef%3D", 'its value is a URL with a credential in its "sig" parameter'],
  ["GEO_URL", `https://geo.example.com/v1/lookup?key=${RANDOM_24}`, 'its value is a URL with a credential in its "key" parameter'],
  ["CALLBACK", "https://app.example.com/cb#access_token=abc.def&state=1", 'its value is a URL with a credential in its "access_token" parameter'],
  ["DATABASE_URL", "postgres://app:s3cret@postgres:5432/app", "its value is a URL with a password (scheme://user:password@host)"],
  ["REDIS_URL", "redis://:hunter2@redis.data.svc.cluster.local:6379/0", "its value is a URL with a password"],
  ["APP_CONFIG", "mongo:\n  uri: mongodb://root:example@mongo:27017/admin\n", "its value is a URL with a password"],
  // Random-looking strings, whatever the name.
  ["UPSTREAM_CONFIG", RANDOM_40, "its value is a random-looking string (40 characters mixing cases and digits"],
  ["INIT_ARGS", `--seed ${RANDOM_32} --verbose`, "its value is a random-looking string (32 characters"],
  ["VALUE", RANDOM_24, "its value is a random-looking string (24 characters"],
];

/** name, value: literal values that are not secrets. */
const NEGATIVES: [string, string][] = [
  // Names that describe a secret without holding it.
  ["AWS_ACCESS_KEY_ID", "not-an-access-key"],
  ["KMS_KEY_ID", "1234abcd-12ab-34cd-56ef-1234567890ab"],
  ["SIGNING_KEY_ID", "2024-rotation"],
  ["DATABASE_PASSWORD_FILE", "/run/secrets/db"],
  ["SECRET_NAME", "api-secrets"],
  ["DB_SECRET_ARN", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf"],
  ["TOKEN_URL", "https://auth.example.com/oauth/token"],
  ["PASSWORD_MIN_LENGTH", "12"],
  ["TOKEN_TTL", "3600"],
  ["AUTH_TOKEN_HEADER", "X-Auth-Token"],
  ["KEY_PREFIX", "nexus/"],
  ["CREDENTIALS_PATH", "/etc/app/credentials.json"],
  // Public halves and lookup keys.
  ["PUBLIC_KEY", "MCowBQYDK2VwAyEA"],
  ["JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----"],
  ["STRIPE_PUBLISHABLE_KEY", join("pk", "_live_", RANDOM_24.toLowerCase())],
  ["AUTHORIZED_KEYS", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGqR7vVx3b9kPzL2mW8nYtQ4sJf6HdUe1Ac0BgXo5Kp ops@nexus"],
  ["CA_BUNDLE", b64("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n")],
  ["SORT_KEY", "createdAt"],
  ["CACHE_KEY", "user-profile"],
  ["SESSION_CACHE_KEY", "sess:{id}"],
  ["ROUTING_KEY", "orders.created"],
  // Secret-ish names whose value cannot be the secret.
  ["DB_PASSWORD", ""],
  ["DB_PASSWORD", "$(DB_PASSWORD_FROM_SECRET)"],
  ["API_TOKEN", "${API_TOKEN}"],
  ["GOOGLE_APPLICATION_CREDENTIALS", "/var/run/secrets/google/key.json"],
  ["PWD", "/app"],
  ["REQUIRE_AUTH", "true"],
  ["AUTH", "https://sso.example.com"],
  // Look-alike names.
  ["PASS_THRESHOLD", "0.9"],
  ["BYPASS_CACHE", "1"],
  ["MAX_TOKENS", "2048"],
  ["KEYCLOAK_URL", "https://keycloak.example.com/realms/nexus"],
  ["PASSPORT_STRATEGY", "oidc"],
  ["SECRET_PROVIDER_CLASS", "api-secrets"],
  // Values that are identifiers, not secrets.
  ["DATABASE_URL", "postgres://app:$(DB_PASSWORD)@postgres.data.svc.cluster.local:5432/app"],
  ["REDIS_URL", "redis://redis.data.svc.cluster.local:6379/1"],
  ["POSTGRES_HOST", "postgres.data.svc.cluster.local"],
  ["IMAGE", `ghcr.io/nexus-platform/api@sha256:${HEX_64}`],
  ["IMAGE_DIGEST", `sha256:${HEX_64}`],
  ["REQUEST_ID", "123e4567-e89b-12d3-a456-426614174000"],
  ["GIT_SHA", HEX_64.slice(0, 40)],
  ["TRACE_ID", HEX_32],
  ["SCHEDULE", "*/5 * * * *"],
  ["POD_NAME", "api-7d9f8b6c5-x2kq9"],
  ["OIDC_ISSUER", "oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"],
  ["BUCKET", "NexusPlatformBackups2024"],
  ["MAIN_CLASS", "com.example.app.MainApplication2"],
  ["JAVA_OPTS", "-Xmx512m -XX:MaxRAMPercentage=75.0 -Dfile.encoding=UTF-8"],
  ["USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"],
  ["DASHBOARD_URL", "https://grafana.example.com/d/Xk9Lm2Qp7Rt4Wv8Z/nexus-overview?orgId=1&refresh=30s"],
  ["BUILD_TRIGGER", "https://ci.example.com/triggers/build-2024-nightly-01"],
  ["SEARCH_URL", "https://search.example.com/q?key=name&sort=asc"],
  ["OAUTH_START", "https://auth.example.com/authorize?response_type=token&client_id=nexus"],
  ["HELP", "Send the Bearer token in the Authorization header."],
  ["LOG_LEVEL", "info"],
  ["TZ", "Europe/Berlin"],
];

describe("secretFinding", () => {
  it("has at least 25 positive and 25 negative rows", () => {
    expect(POSITIVES.length).toBeGreaterThanOrEqual(25);
    expect(NEGATIVES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(POSITIVES)("flags %s = %j", (name, value, reason) => {
    expect(secretFinding(name, value)).toMatch(new RegExp(`^${reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  });

  it.each(NEGATIVES)("passes %s = %j", (name, value) => {
    expect(secretFinding(name, value)).toBeUndefined();
  });

  it("never quotes the value in its reason", () => {
    for (const [name, value] of POSITIVES) {
      const reason = secretFinding(name, value) ?? "";
      if (value.length >= 6) expect(reason).not.toContain(value);
    }
  });
});

describe("name rules", () => {
  it.each([
    ["DB_PASS", ["db", "pass"]],
    ["dbPassword", ["db", "password"]],
    ["APIKey", ["api", "key"]],
    ["JWT_SIGNING_KEY_B64", ["jwt", "signing", "key", "b", "64"]],
    ["nexus-platform:db.password", ["nexus", "platform", "db", "password"]],
  ])("tokenizes %s", (name, tokens) => {
    expect(nameTokens(name)).toEqual(tokens);
  });

  it("judges names alone, descriptor suffixes first", () => {
    expect(secretNameFinding("DB_PASSWORD")).toBeDefined();
    expect(secretNameFinding("DB_PASSWORD_FILE")).toBeUndefined();
    expect(secretNameFinding("PASS_HOST_HEADER")).toBeUndefined();
    expect(secretNameFinding("AUTH_MODE")).toBeUndefined();
    expect(secretNameFinding("PRIVATE_REGISTRY")).toBeUndefined();
  });
});

describe("shannonEntropy", () => {
  it("is log2 of the alphabet for evenly used characters, 0 for one character", () => {
    expect(shannonEntropy("abcd")).toBe(2);
    expect(shannonEntropy("aaaa")).toBe(0);
  });
});

describe("the random-looking string rule", () => {
  /** Deterministic base62 strings (a linear congruential generator), so the rates below never flake. */
  const randomStrings = (length: number, count: number) => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    return Array.from({ length: count }, () => Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join(""));
  };

  it.each([
    [20, 0.95],
    [32, 0.98],
    [40, 0.99],
  ])("flags random base62 strings of %i characters at a rate of at least %f", (length, rate) => {
    const flagged = randomStrings(length, 1000).filter((s) => secretFinding("UPSTREAM_CONFIG", s) !== undefined).length;
    expect(flagged / 1000).toBeGreaterThanOrEqual(rate);
  });

  it("stays linear on megabyte values built to make regular expressions backtrack", () => {
    const hostile = [
      "a".repeat(1_000_000),
      "A".repeat(1_000_000) + "b",
      "a://".repeat(250_000),
      "Bearer ".repeat(140_000),
      "-----BEGIN ".repeat(90_000),
      "aB1".repeat(330_000),
    ];
    const start = Date.now();
    for (const value of hostile) expect(secretFinding("UPSTREAM_CONFIG", value)).toBeUndefined();
    expect(Date.now() - start).toBeLessThan(5_000);
  });
});
