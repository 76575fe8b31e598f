/**
 * The literal-secret detector: does a name/value pair, an environment variable, a ConfigMap key
 * or a stack config value, hold a secret in plain text? One module for the policy pack
 * (no-literal-secret-env) and the CLI (`nexus validate` on Pulumi.<stack>.yaml), so both judge
 * alike. Pure functions, no imports: the policy pack, its own package, loads it as it is.
 *
 * A finding never quotes the value, only why it looks secret: the reason ends up in CI logs.
 */

// ------------------------------------------------------------------------------------ names

/**
 * Splits a key into lowercase words: on `_`, `-`, `.`, `:`, `/` and any other separator, on
 * camelCase (`dbPassword`, `APIKey`) and between letters and digits (`PASSWORD2`, `B64`).
 */
export function nameTokens(name: string): string[] {
  return name
    .replace(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])/g, " ")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Words that name a secret wherever they stand in the key: DB_PASSWORD, SECRET_KEY_BASE, REFRESH_TOKEN. */
const SECRET_WORDS: Record<string, string> = {
  password: "a password",
  passwd: "a password",
  passphrase: "a passphrase",
  passcode: "a passcode",
  htpasswd: "a password file's content",
  secret: "a secret",
  secrets: "secrets",
  token: "a token",
  bearer: "a bearer token",
  credential: "a credential",
  credentials: "credentials",
  creds: "credentials",
  apikey: "an API key",
  dsn: "a data source name, which carries credentials",
};

/**
 * Words too common in other senses to count anywhere, so they count only as the key's last word:
 * DB_PASS and DB_PWD are passwords, PASS_THRESHOLD and PASS_HOST_HEADER are not; BASIC_AUTH
 * holds credentials, AUTH_MODE does not; GPG_PRIVATE is a key, PRIVATE_REGISTRY is not.
 */
const TRAILING_SECRET_WORDS: Record<string, string> = {
  pass: "a password",
  pwd: "a password",
  auth: "credentials",
  authorization: "credentials",
  private: "a private key",
};

/**
 * Words that turn a following `key` into a secret: API_KEY, SESSION_KEY, JWT_SIGNING_KEY. Without
 * one, `key` is usually a lookup key (SORT_KEY, CACHE_KEY, S3 object keys, AMQP routing keys).
 */
const KEY_QUALIFIERS = new Set([
  "access",
  "aes",
  "api",
  "app",
  "cert",
  "cipher",
  "client",
  "cookie",
  "crypto",
  "csrf",
  "deploy",
  "enc",
  "encrypt",
  "encryption",
  "gpg",
  "hmac",
  "integration",
  "jwt",
  "license",
  "licence",
  "master",
  "pgp",
  "priv",
  "private",
  "secret",
  "session",
  "shared",
  "sign",
  "signing",
  "ssh",
  "ssl",
  "storage",
  "tls",
  "webhook",
]);

/** Words that make a key the public half of a pair: PUBLIC_KEY, JWT_PUBLIC_KEY, STRIPE_PUBLISHABLE_KEY. */
const PUBLIC_WORDS = new Set(["public", "pub", "pubkey", "publishable"]);

/**
 * A last word that makes the key describe a secret rather than hold it: where it is
 * (DB_PASSWORD_FILE, SECRET_NAME, SECRET_ARN, TOKEN_URL), what identifies it (AWS_ACCESS_KEY_ID,
 * SIGNING_KEY_ID), or how it is handled (TOKEN_TTL, PASSWORD_MIN_LENGTH, AUTH_TOKEN_HEADER,
 * KEY_PREFIX). A `*_URL` or `*_URI` that does carry credentials is still caught by its value.
 */
const DESCRIPTOR_WORDS = new Set([
  // where the secret lives
  "arn",
  "dir",
  "directory",
  "endpoint",
  "file",
  "filename",
  "files",
  "folder",
  "host",
  "hostname",
  "location",
  "mount",
  "namespace",
  "path",
  "paths",
  "port",
  "ref",
  "reference",
  "store",
  "uri",
  "url",
  "urls",
  // what names or identifies it
  "class",
  "driver",
  "id",
  "ids",
  "name",
  "names",
  "provider",
  "backend",
  // how it is handled
  "age",
  "alg",
  "algorithm",
  "attempts",
  "audience",
  "bits",
  "burst",
  "capacity",
  "claim",
  "claims",
  "count",
  "days",
  "disable",
  "disabled",
  "duration",
  "enable",
  "enabled",
  "expiration",
  "expires",
  "expiry",
  "field",
  "format",
  "header",
  "hint",
  "hours",
  "interval",
  "issuer",
  "kind",
  "len",
  "length",
  "level",
  "lifetime",
  "limit",
  "max",
  "min",
  "minutes",
  "mode",
  "ms",
  "param",
  "pattern",
  "period",
  "policy",
  "prefix",
  "rate",
  "regex",
  "required",
  "retries",
  "rotation",
  "scope",
  "scopes",
  "seconds",
  "size",
  "suffix",
  "threshold",
  "timeout",
  "ttl",
  "type",
  "version",
  "window",
]);

/** Why a key's name says it holds a secret, or undefined. Judges the name alone; see secretFinding. */
export function secretNameFinding(name: string): string | undefined {
  const words = nameTokens(name);
  const last = words[words.length - 1];
  if (last === undefined || DESCRIPTOR_WORDS.has(last)) return undefined;
  for (const [i, word] of words.entries()) {
    const what = SECRET_WORDS[word];
    if (what !== undefined) return `its name says it is ${what} ("${word}")`;
    if (i === words.length - 1 && TRAILING_SECRET_WORDS[word] !== undefined) return `its name says it is ${TRAILING_SECRET_WORDS[word]} ("${word}")`;
    // Run-together words: PGPASSWORD, HTPASSWD, AUTHTOKEN, CLIENTSECRET, APIKEY, SIGNINGKEY.
    const glued = /(password|passwd|passphrase)/.exec(word) ?? /^[a-z]+(token|secret)$/.exec(word);
    if (glued) return `its name says it is ${SECRET_WORDS[glued[1]!]} ("${word}")`;
    if (/^(connstr|connstring|connectionstring)$/.test(word)) return `its name says it is a connection string, which carries credentials ("${word}")`;
    if ((word === "conn" || word === "connection") && (words[i + 1] === "string" || words[i + 1] === "str")) {
      return `its name says it is a connection string, which carries credentials ("${word} ${words[i + 1]}")`;
    }
  }
  if (words.some((w) => PUBLIC_WORDS.has(w))) return undefined;
  for (const [i, word] of words.entries()) {
    const qualifier = word === "key" || word === "keys" ? words[i - 1] : /^([a-z]+)keys?$/.exec(word)?.[1];
    if (qualifier !== undefined && KEY_QUALIFIERS.has(qualifier)) {
      return `its name says it is a secret key ("${word === "key" || word === "keys" ? `${qualifier} ${word}` : word}")`;
    }
  }
  return undefined;
}

// ----------------------------------------------------------------------------------- values

/** Token formats that are credentials whatever the key is called, each with its reason. */
const TOKEN_FORMATS: readonly { re: RegExp; what: string }[] = [
  // An access key id is only half of a credential, but AKIA (a long-lived IAM user key) or ASIA
  // (a session key) in a manifest means its secret half travels with it; the platform's pods get
  // AWS access from IAM roles for service accounts, never from keys.
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, what: "an AWS access key id (AKIA/ASIA)" },
  { re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}/, what: "a GitHub token" },
  { re: /\bgithub_pat_[A-Za-z0-9_]{22,}/, what: "a GitHub fine-grained personal access token" },
  { re: /\bglpat-[A-Za-z0-9_-]{20,}/, what: "a GitLab personal access token" },
  { re: /\bxox[abeoprs]-[A-Za-z0-9-]{10,}/, what: "a Slack token" },
  { re: /hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9]/, what: "a Slack webhook URL, whose path is its token" },
  { re: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/, what: "a Stripe secret key" },
  { re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/, what: "a Google API key" },
  { re: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/, what: "a SendGrid API key" },
  { re: /\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/, what: "an npm access token" },
  { re: /\bsk-(?:proj|ant|svcacct)-[A-Za-z0-9_-]{20,}/, what: "an AI provider API key" },
  { re: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY/, what: "a private key (PEM)" },
  { re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/, what: "a JSON Web Token" },
  // An Authorization header value with a digit in it (English text after "Bearer" has none).
  { re: /\b(?:Basic|Bearer) (?=[A-Za-z0-9+/=._~-]{0,200}[0-9])[A-Za-z0-9+/=._~-]{16,}/, what: "an HTTP Authorization credential" },
];

/** "-----BEGIN", base64-encoded: a PEM block inside a base64 value (a kubeconfig's client-key-data). */
const BASE64_PEM = "LS0tLS1CRUdJTi";

/** A value that stands for another one: `$(VAR)` (expanded by Kubernetes), `${VAR}`, `$VAR`, `{{ template }}`. */
function isReference(value: string): boolean {
  return /^\$\([A-Za-z_][A-Za-z0-9_]*\)$|^\$\{[^{}\s]+\}$|^\$[A-Za-z_][A-Za-z0-9_]*$|^\{\{[^\n]*\}\}$/.test(value);
}

/** Query and fragment parameters that carry a credential beyond what secretNameFinding says. */
const CREDENTIAL_PARAMS = new Set(["sig", "signature", "x-amz-signature", "x-goog-signature", "code_verifier"]);

/** Path segments after which a URL's next long segment is the hook's token. */
const HOOK_SEGMENTS = /^(?:web)?hooks?$|^webhookb2$|^integrations?$|^triggers?$/i;

/** URLs in a text: each `scheme://` and what follows up to whitespace, a quote or a bracket. Linear in the text. */
function urlsIn(text: string): { start: number; end: number; url: string }[] {
  const found: { start: number; end: number; url: string }[] = [];
  let at = text.indexOf("://");
  while (at >= 0) {
    let start = at;
    while (start > 0 && at - start < 32 && /[A-Za-z0-9+.-]/.test(text[start - 1]!)) start--;
    let end = at + 3;
    while (end < text.length && !/[\s"'`<>()[\]{}\\|^]/.test(text[end]!)) end++;
    if (start < at) found.push({ start, end, url: text.slice(start, end) });
    at = text.indexOf("://", end);
  }
  return found;
}

/** Why a URL carries a credential: a password, a token parameter, or a webhook token in its path. */
function urlFinding(url: string): string | undefined {
  const rest = url.slice(url.indexOf("://") + 3);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(":");
    const password = colon < 0 ? "" : decodeSafely(userinfo.slice(colon + 1));
    if (password !== "" && !isReference(password) && !/^\*+$/.test(password)) return "a URL with a password (scheme://user:password@host)";
  }
  const host = (at >= 0 ? authority.slice(at + 1) : authority).toLowerCase().replace(/:\d+$/, "");
  const tail = authorityEnd < 0 ? "" : rest.slice(authorityEnd);
  const pathEnd = tail.search(/[?#]/);
  const segments = (pathEnd < 0 ? tail : tail.slice(0, pathEnd)).split("/").filter(Boolean);
  if (/(^|\.)pagerduty\.com$/.test(host) && segments.some((s) => /^[A-Za-z0-9]{32}$/.test(s)))
    return "a PagerDuty integration URL, whose path holds the integration key";
  if (/^(?:discord|discordapp)\.com$/.test(host) && segments[0] === "api" && segments[1] === "webhooks" && segments.length >= 4) {
    return "a Discord webhook URL, whose path is its token";
  }
  const hook = segments.findIndex((s) => HOOK_SEGMENTS.test(s));
  // The token: one long segment of letters and digits (a build name like nightly-2024-01 has dashes).
  if (hook >= 0 && segments.slice(hook + 1).some((s) => s.length >= 16 && /^[A-Za-z0-9_]+$/.test(s) && /[A-Za-z]/.test(s) && /[0-9]/.test(s))) {
    return "a webhook URL with a token in its path";
  }
  if (pathEnd >= 0) {
    for (const param of tail.slice(pathEnd + 1).split(/[&;#?]/)) {
      const eq = param.indexOf("=");
      if (eq <= 0) continue;
      const name = decodeSafely(param.slice(0, eq));
      const value = decodeSafely(param.slice(eq + 1));
      if (value === "" || isReference(value)) continue;
      const lower = name.toLowerCase();
      // A bare `key` is also a lookup key (?key=name): only a long value counts, as API keys are.
      const credential =
        lower === "key" ? value.length >= 16 : CREDENTIAL_PARAMS.has(lower) || (secretNameFinding(name) !== undefined && !namesNoSecret(value));
      if (credential) {
        return `a URL with a credential in its "${name}" parameter`;
      }
    }
  }
  return undefined;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Shannon entropy of a string, in bits per character, from its own character frequencies. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * The random-looking string rule. A candidate is one word (URLs, PEM blocks and SSH public keys
 * taken out) from the base64/base64url alphabet plus dots; of it, the parts between slashes and
 * dots that mix both cases must together hold at least MIN_RANDOM_LENGTH characters, digits
 * among them. They are random-looking when their entropy reaches MIN_RANDOM_ENTROPY and their
 * letter/digit runs average at most MAX_RANDOM_RUN characters.
 *
 * Why mixed case and digits: generated API keys and passwords are base62/base64, and requiring
 * all three classes leaves out, by construction, what is hex or single-case: image digests
 * (sha256: + 64 hex), commit ids, UUIDs, trace ids, EKS OIDC ids, generated Kubernetes names,
 * DNS names and cron strings (which also hold spaces). A lowercase or hex secret is left to the
 * name rules and the token formats. 96% of random 20-character base62 strings have all three.
 *
 * Why the run length: the empirical entropy of a string is at most log2(its length), 4.32 bits
 * for 20 characters, so the usual "above 4.5 bits" threshold can never fire on short tokens, and
 * at 20 to 32 characters camelCase identifiers score as high as random strings do
 * ("NexusPlatformBackups2024": 4.25 bits; a random 24-character base62 string: 4.25 median).
 * What tells them apart is the length of their runs of lowercase (after an optional capital),
 * uppercase or digits: words make long runs (Nexus, Platform, 2024: 6 on average), random
 * characters change class every other character (1.9 on average, 3.0 at the 99.9th percentile
 * for 40 characters and 2.9 at the 99th for 20). Sampled identifiers ("K8sClusterAutoscaler2",
 * "com.example.app.MainApplication2", "Xmx512mXXMaxRAMPercentage75") average 3.4 or more.
 *
 * Why the entropy floor: 3.5 bits is below the 1st percentile of random 20-character base62
 * strings (3.65); it rejects repetitive strings ("aB1aB1aB1…") whose runs are short.
 */
const MIN_RANDOM_LENGTH = 20;
const MIN_RANDOM_ENTROPY = 3.5;
const MAX_RANDOM_RUN = 3.0;

function randomWordFinding(word: string): string | undefined {
  if (word.length < MIN_RANDOM_LENGTH || !/^[A-Za-z0-9+/_.~-]+$/.test(word)) return undefined;
  if (word.startsWith(BASE64_PEM)) return undefined; // judged as the PEM block it encodes, see base64PemFinding
  // Only the parts between slashes and dots that mix cases count: in a host or path
  // (oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E) the cases mix only
  // across parts, while a base64 string keeps mixing them between its slashes.
  const mixed = word
    .split(/[/.]/)
    .filter((part) => /[a-z]/.test(part) && /[A-Z]/.test(part))
    .join("");
  if (mixed.length < MIN_RANDOM_LENGTH || !/[0-9]/.test(mixed)) return undefined;
  const runs = mixed.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+/g) ?? [];
  const inRuns = runs.reduce((sum, r) => sum + r.length, 0);
  if (runs.length === 0 || inRuns / runs.length > MAX_RANDOM_RUN) return undefined;
  const bits = shannonEntropy(mixed);
  if (bits < MIN_RANDOM_ENTROPY) return undefined;
  return `a random-looking string (${word.length} characters mixing cases and digits, ${bits.toFixed(1)} bits of entropy per character)`;
}

/** A base64-encoded PEM private key; an encoded certificate or public key is not secret. */
function base64PemFinding(text: string): string | undefined {
  let at = text.indexOf(BASE64_PEM);
  while (at >= 0) {
    const chunk = text.slice(at, at + 96).replace(/[^A-Za-z0-9+/]/g, "");
    if (/-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY/.test(base64Decode(chunk.slice(0, chunk.length - (chunk.length % 4)))))
      return "a base64-encoded private key (PEM)";
    at = text.indexOf(BASE64_PEM, at + BASE64_PEM.length);
  }
  return undefined;
}

function base64Decode(text: string): string {
  try {
    return atob(text);
  } catch {
    return "";
  }
}

/** OpenSSH public keys: `ssh-ed25519 AAAA…`, `ecdsa-sha2-nistp256 AAAA…`, the security-key variants. */
const SSH_PUBLIC_KEY = /\b(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d{3}|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) AAAA[A-Za-z0-9+/]+=*/g;

/**
 * The text without PEM blocks and OpenSSH public keys, whose base64 bodies look random but are
 * certificates and public keys (a CA bundle, authorized_keys): a private key's PEM block is found
 * before this, by its header. Scans with indexOf, linear in the text.
 */
function withoutPublicKeys(text: string): string {
  let out = "";
  let from = 0;
  for (;;) {
    const begin = text.indexOf("-----BEGIN ", from);
    if (begin < 0) break;
    const end = text.indexOf("-----END ", begin);
    if (end < 0) break;
    const close = text.indexOf("-----", end + 9);
    out += `${text.slice(from, begin)} `;
    from = close < 0 ? text.length : close + 5;
  }
  return (out + text.slice(from)).replace(SSH_PUBLIC_KEY, " ");
}

/** Why a value is a credential whatever its key is called, or undefined. Judges the value alone; see secretFinding. */
export function secretValueFinding(value: string): string | undefined {
  for (const format of TOKEN_FORMATS) if (format.re.test(value)) return `its value is ${format.what}`;
  const pem = base64PemFinding(value);
  if (pem) return `its value is ${pem}`;
  const urls = urlsIn(value);
  for (const { url } of urls) {
    const why = urlFinding(url);
    if (why) return `its value is ${why}`;
  }
  // URLs are judged above, by their parts: their paths and hosts are not random words.
  let rest = value;
  for (const { start, end } of urls.reverse()) rest = `${rest.slice(0, start)} ${rest.slice(end)}`;
  for (const word of withoutPublicKeys(rest).split(/[\s"'`,;:=()[\]{}<>|\\]+/)) {
    const why = randomWordFinding(word);
    if (why) return `its value is ${why}`;
  }
  return undefined;
}

/**
 * Values that cannot be the secret a name announces: a reference to another variable or a
 * template, a switch (AUTH_ENABLED-like keys named without a suffix: `REQUIRE_AUTH: "true"`),
 * a file path (GOOGLE_APPLICATION_CREDENTIALS=/var/run/…/key.json, PWD=/app), an AWS ARN
 * (a Secrets Manager secret's address), or a URL without user info (AUTH=https://sso.example.com).
 * The value rules still judge them: a path or URL that is itself a credential is still found.
 */
function namesNoSecret(value: string): boolean {
  if (isReference(value)) return true;
  if (/^(?:true|false|yes|no|on|off|enabled|disabled|none)$/i.test(value)) return true;
  if (/^(?:~|\.{1,2})?\/[^\s]*$/.test(value)) return true;
  if (/^arn:aws[a-z-]*:/.test(value)) return true;
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\s]*)/i.exec(value);
  return url !== null && !url[1]!.includes("@");
}

/**
 * A PagerDuty Events API routing (integration) key is 32 hex characters. By name alone ROUTING_KEY
 * is an AMQP routing key and SERVICE_KEY anything, so only that value under such a name counts.
 */
function pagerDutyKey(name: string, value: string): boolean {
  const words = nameTokens(name);
  const before = words[words.length - 2];
  return (
    /^[0-9a-f]{32}$/i.test(value) &&
    words[words.length - 1] === "key" &&
    before !== undefined &&
    ["routing", "integration", "service", "pagerduty", "pd"].includes(before)
  );
}

/**
 * Why a literal name/value pair looks like a secret, or undefined. The value rules come first
 * (a token format, a URL with credentials, a random-looking string: a secret whatever the name),
 * then the name rules (a secret-ish name with a value that could be the secret). Empty values
 * are never secrets: they are placeholders to fill from elsewhere.
 */
export function secretFinding(name: string, value: string): string | undefined {
  const text = value.trim();
  if (text === "") return undefined;
  const byValue = secretValueFinding(text);
  if (byValue) return byValue;
  if (pagerDutyKey(name, text)) return "its value is a PagerDuty integration key";
  if (namesNoSecret(text)) return undefined;
  return secretNameFinding(name);
}
