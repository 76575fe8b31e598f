/**
 * Validators for values Kubernetes would otherwise reject only at apply time.
 * Each returns why a value is wrong, with how to fix it, or undefined.
 */

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const MULTIPLIER: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The numeric value of a Kubernetes quantity, or undefined when it is not one. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const number = Number(match[1]);
  const suffix = match[2] ?? "";
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * MULTIPLIER[suffix]!;
}

export function quantityProblem(text: string): string | undefined {
  const value = parseQuantity(text);
  if (value === undefined) {
    return `"${text}" is not a Kubernetes quantity: write e.g. "250m" or "1" for CPU, "512Mi" or "2Gi" for memory`;
  }
  if (value < 0) return `"${text}" is negative: a quantity must be zero or more`;
  return undefined;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export interface ImageRef {
  /** Everything before the tag or digest, e.g. "ghcr.io/nexus/api". */
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImage(image: string): ImageRef {
  const [beforeDigest, digest] = image.split("@", 2) as [string, string | undefined];
  const slash = beforeDigest.lastIndexOf("/");
  const colon = beforeDigest.lastIndexOf(":");
  if (colon > slash) {
    return { repository: beforeDigest.slice(0, colon), tag: beforeDigest.slice(colon + 1), digest };
  }
  return { repository: beforeDigest, digest };
}

export function imageProblem(image: string): string | undefined {
  if (image.trim() !== image || image === "" || /\s/.test(image)) {
    return `"${image}" is not an image reference: write REGISTRY/PATH:TAG or REGISTRY/PATH@sha256:DIGEST`;
  }
  const ref = parseImage(image);
  if (ref.digest !== undefined) {
    return DIGEST.test(ref.digest) ? undefined : `digest "${ref.digest}" is not "sha256:" followed by 64 hex digits`;
  }
  if (ref.tag === undefined || ref.tag === "") {
    return `image "${image}" has no tag: pin it with a version tag or an @sha256 digest`;
  }
  if (ref.tag === "latest") {
    return `image "${image}" uses the moving tag "latest": pin it with a version tag or an @sha256 digest`;
  }
  if (!/^[\w][\w.-]{0,127}$/.test(ref.tag)) return `tag "${ref.tag}" is not a valid image tag`;
  return undefined;
}

/** Whether an image comes from one of the allowed registries (prefixes ending at a path boundary). */
export function imageAllowed(image: string, registries: readonly string[]): boolean {
  const { repository } = parseImage(image);
  return registries.some((r) => repository === r || repository.startsWith(r.endsWith("/") ? r : `${r}/`));
}

/** Days in a retention string such as "30d", "12w" or "1y"; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)([smhdwy])$/.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  const seconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  return n * seconds[match[2]!]!;
}
