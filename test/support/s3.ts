import { createHash, createHmac } from "node:crypto";

/**
 * Signed (AWS Signature Version 4) requests to an S3-compatible endpoint, path-style, for tests
 * that read what the backup jobs wrote: a store checks the signature and the bucket's ACL, so an
 * anonymous request is refused.
 */
export interface S3Client {
  request(method: "GET" | "HEAD" | "PUT" | "DELETE", key: string, options?: { query?: Record<string, string>; body?: string }): Promise<Response>;
  listKeys(prefix: string): Promise<string[]>;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
/** RFC 3986 encoding, as SigV4 wants it ("/" kept in paths). */
const encode = (s: string, keepSlash = false) =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, keepSlash ? "/" : "%2F");

export function s3Client(endpoint: string, bucket: string, credentials: { accessKeyId: string; secretAccessKey: string; region: string }): S3Client {
  const url = new URL(endpoint);
  const request: S3Client["request"] = (method, key, options = {}) => {
    const body = options.body ?? "";
    const now = new Date()
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z");
    const day = now.slice(0, 8);
    const path = `/${bucket}/${encode(key, true)}`;
    const query = Object.entries(options.query ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${encode(k)}=${encode(v)}`)
      .join("&");
    const payload = sha256(body);
    const headers: Record<string, string> = { host: url.host, "x-amz-content-sha256": payload, "x-amz-date": now };
    const signed = Object.keys(headers).sort();
    const canonicalHeaders = signed.map((h) => `${h}:${headers[h]}\n`).join("");
    const canonical = `${method}\n${path}\n${query}\n${canonicalHeaders}\n${signed.join(";")}\n${payload}`;
    const scope = `${day}/${credentials.region}/s3/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", now, scope, sha256(canonical)].join("\n");
    const key_ = ["aws4_request", "s3", credentials.region, day].reduceRight<Buffer | string>((k, part) => hmac(k, part), `AWS4${credentials.secretAccessKey}`);
    const signature = createHmac("sha256", key_).update(toSign).digest("hex");
    return fetch(`${url.origin}${path}${query ? `?${query}` : ""}`, {
      method,
      headers: {
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`,
      },
      ...(method === "PUT" ? { body } : {}),
    });
  };
  return {
    request,
    async listKeys(prefix) {
      const res = await request("GET", "", { query: { "list-type": "2", prefix } });
      if (!res.ok) throw new Error(`list ${bucket}/${prefix}: HTTP ${res.status} ${await res.text()}`);
      return [...(await res.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!).sort();
    },
  };
}
