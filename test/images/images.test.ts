/**
 * scripts/images and the images it builds: the demo image is byte-for-byte reproducible and
 * cached, `list` names every image with a pinned nexus.local reference, and the demo binary taken
 * from the image behaves as the stack relies on (probes, metrics, dependency checks, SIGTERM, the
 * connect subcommand and the task links). The Debian images need apt with Debian 12 package lists;
 * without them only the Go images are listed. Builds go to temporary caches (NEXUS_CACHE).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/registries";

const exec = promisify(execFile);
const SCRIPT = path.join(ROOT, "scripts", "images");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-images-"));
const GO_IMAGES = ["coredns", "demo", "deploy-check", "kube-state-metrics", "pause"];
const DEBIAN_IMAGES = ["alertmanager", "backup-runner", "postgresql", "prometheus", "redis"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(file, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

const images = (cache: string, ...args: string[]) => run(SCRIPT, args, { NEXUS_CACHE: cache });

/** `list` lines as {name, reference, digest}. */
function parseList(stdout: string) {
  return stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [name, reference, digest, ...rest] = line.split(" ");
      expect(rest, line).toEqual([]);
      return { name: name!, reference: reference!, digest: digest! };
    });
}

/** The one archive of an image in a cache. */
function archiveOf(cache: string, name: string): string {
  const dir = path.join(cache, "images", name);
  const tars = fs.readdirSync(dir).filter((f) => f.endsWith(".tar"));
  expect(tars).toHaveLength(1);
  return path.join(dir, tars[0]!);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cacheA = path.join(tmp, "cache-a");
const cacheB = path.join(tmp, "cache-b");
const rootfs = path.join(tmp, "rootfs");
let demoDigest = "";

beforeAll(async () => {
  // Two cold caches (Go's own build cache is shared, which only makes the builds faster).
  const [a, b] = await Promise.all([images(cacheA, "build", "demo"), images(cacheB, "build", "demo")]);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("scripts/images build", () => {
  it("builds the demo image reproducibly: two cold caches give the same archive and digest", async () => {
    const [a, b] = await Promise.all([images(cacheA, "list", "demo"), images(cacheB, "list", "demo")]);
    const [la] = parseList(a.stdout);
    const [lb] = parseList(b.stdout);
    expect(la!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(lb!.digest).toBe(la!.digest);
    expect(fs.readFileSync(archiveOf(cacheA, "demo")).equals(fs.readFileSync(archiveOf(cacheB, "demo")))).toBe(true);
    demoDigest = la!.digest;
  });

  it("only checks the cache when nothing changed", async () => {
    const archive = archiveOf(cacheA, "demo");
    const before = fs.statSync(archive).mtimeMs;
    const again = await images(cacheA, "build", "demo");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/demo: cached/);
    expect(fs.statSync(archive).mtimeMs).toBe(before);
  });

  it("writes an OCI layout that containerd names and runs: annotations, config, one layer", async () => {
    const oci = path.join(tmp, "oci");
    fs.mkdirSync(oci);
    const untar = await run("tar", ["-xf", archiveOf(cacheA, "demo"), "-C", oci]);
    expect(untar.code, untar.stderr).toBe(0);
    const blob = (digest: string) => path.join(oci, "blobs", "sha256", digest.replace(/^sha256:/, ""));
    const json = (digest: string) => JSON.parse(fs.readFileSync(blob(digest), "utf8"));

    expect(JSON.parse(fs.readFileSync(path.join(oci, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const index = JSON.parse(fs.readFileSync(path.join(oci, "index.json"), "utf8"));
    expect(index.manifests).toHaveLength(1);
    const [desc] = index.manifests;
    expect(desc.digest).toBe(demoDigest);
    expect(desc.annotations).toEqual({ "io.containerd.image.name": "nexus.local/demo:1.1.0", "org.opencontainers.image.ref.name": "1.1.0" });

    const manifest = json(desc.digest);
    expect(manifest.layers).toHaveLength(1);
    const config = json(manifest.config.digest);
    expect(config).toMatchObject({ architecture: "amd64", os: "linux" });
    expect(config.config).toMatchObject({ User: "65532:65532", Entrypoint: ["/usr/local/bin/nexus-demo"], WorkingDir: "/" });
    expect(config.config.Env).toContain("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

    fs.mkdirSync(rootfs);
    const layer = await run("tar", ["-xzf", blob(manifest.layers[0].digest), "-C", rootfs]);
    expect(layer.code, layer.stderr).toBe(0);
    for (const task of ["k6", "nexus-ml", "nexus-optimizer", "nexus-report", "nexus-security", "system-monitor"]) {
      expect(fs.readlinkSync(path.join(rootfs, "usr", "local", "bin", task))).toBe("nexus-demo");
    }
  });
});

describe("scripts/images list", () => {
  it("names every image with a nexus.local reference and a pinned tag", async () => {
    const debian = (await run("apt-cache", ["policy", "postgresql-15"])).stdout.match(/Candidate: (?!\(none\))/) !== null;
    const names = debian ? [...DEBIAN_IMAGES, ...GO_IMAGES].sort() : GO_IMAGES;
    const listed = await images(cacheA, "list", ...names);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = parseList(listed.stdout);
    expect(lines.map((l) => l.name)).toEqual(names);
    for (const { name, reference, digest } of lines) {
      const tag = reference.slice(`nexus.local/${name}:`.length);
      expect(reference.startsWith(`nexus.local/${name}:`), reference).toBe(true);
      expect(tag).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]*[0-9][A-Za-z0-9_.-]*$/);
      expect(tag).not.toBe("latest");
      if (DEBIAN_IMAGES.includes(name)) expect(tag, "a Debian image says it is one").toMatch(/-deb12$/);
      expect(digest).toBe(name === "demo" ? demoDigest : "-");
    }
  }, 60_000);

  it("rejects an unknown image and import without a socket", async () => {
    const unknown = await images(cacheA, "list", "no-such-image");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no image named no-such-image/);
    const noSocket = await images(cacheA, "import", "demo");
    expect(noSocket.code).toBe(1);
    expect(noSocket.stderr).toMatch(/--address/);
  });
});

describe("the demo binary of the image", () => {
  const bin = () => path.join(rootfs, "usr", "local", "bin", "nexus-demo");
  let server: ChildProcess | undefined;
  let port = 0;
  let closed = 0;

  afterAll(() => {
    if (server && server.exitCode === null) server.kill("SIGKILL");
  });

  it("answers every probe path, exports dependency checks as metrics and stops on SIGTERM with 0", async () => {
    [port, closed] = await Promise.all([freePort(), freePort()]);
    const self = `127.0.0.1:${port}`;
    const down = `127.0.0.1:${closed}`;
    server = spawn(bin(), [], { env: { HOST: "127.0.0.1", PORT: String(port), NEXUS_DEPENDENCIES: `${self}, ${down}` }, stdio: "ignore" });
    const base = `http://127.0.0.1:${port}`;
    await until("/healthz", async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : undefined));
    for (const p of ["/readyz", "/livez", "/health/ready", "/"]) expect((await fetch(base + p)).status, p).toBe(200);

    const metrics = await until("a dependency check", async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text.includes(`nexus_demo_dependency_up{target="${self}"} 1`) ? text : undefined;
    });
    expect(metrics).toContain(`nexus_demo_dependency_up{target="${down}"} 0`);
    expect(metrics).toMatch(/^nexus_demo_http_requests_total\{method="GET",code="200"\} \d+$/m);

    const exited = new Promise<number | null>((resolve) => server!.once("exit", (code) => resolve(code)));
    const start = Date.now();
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - start).toBeLessThan(3000);
  });

  it("fault makes the running server answer 503 on the named paths until cleared; metrics stay up", async () => {
    const faultFile = path.join(os.tmpdir(), `nexus-demo-fault-${process.pid}`);
    const env = { NEXUS_DEMO_FAULT_FILE: faultFile };
    const faultPort = await freePort();
    const faulty = spawn(bin(), [], { env: { HOST: "127.0.0.1", PORT: String(faultPort), ...env }, stdio: "ignore" });
    const base = `http://127.0.0.1:${faultPort}`;
    try {
      await until("/healthz", async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : undefined));
      const on = await run(bin(), ["fault", "/readyz"], env);
      expect(on.code, on.stderr).toBe(0);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
      expect((await run(bin(), ["fault", "readyz"], env)).code).toBe(2);
      expect((await run(bin(), ["fault"], env)).code).toBe(2);
      expect((await run(bin(), ["fault", "--clear"], env)).code).toBe(0);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      faulty.kill("SIGKILL");
      fs.rmSync(faultFile, { force: true });
    }
  });

  it("connect exits 0 when a TCP connection succeeds, 1 when it does not, 2 on a usage error", async () => {
    const listener = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const open = (listener.address() as net.AddressInfo).port;
    try {
      expect((await run(bin(), ["connect", `127.0.0.1:${open}`, "--timeout", "2s"])).code).toBe(0);
      expect((await run(bin(), ["connect", `127.0.0.1:${closed}`, "--timeout=1s"])).code).toBe(1);
      expect((await run(bin(), ["connect"])).code).toBe(2);
    } finally {
      listener.close();
    }
  });

  it("runs a task through its link: exit 0 when every dependency answers, 1 otherwise", async () => {
    const k6 = path.join(rootfs, "usr", "local", "bin", "k6");
    const ok = await run(k6, ["run", "/scripts/smoke.js"], { NEXUS_DEPENDENCIES: "" });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/stand-in for a scheduled task.*command=k6 args="run \/scripts\/smoke.js"/);
    // A dependency that refuses is tried again for NEXUS_DEPENDENCIES_WAIT before the task fails.
    const started = Date.now();
    const failed = await run(k6, ["run"], { NEXUS_DEPENDENCIES: `127.0.0.1:${closed}`, NEXUS_DEPENDENCIES_WAIT: "2s" });
    expect(failed.code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(failed.stderr).toMatch(/task failed: dependencies down/);
  });
});

describe("the Go sources under images/", () => {
  it.each(["demo", "pause"])("%s is gofmt-clean and passes go vet", async (name) => {
    const dir = path.join(ROOT, "images", name);
    const fmt = await run("gofmt", ["-l", dir]);
    expect(fmt.code, fmt.stderr).toBe(0);
    expect(fmt.stdout).toBe("");
    const vet = await exec("go", ["vet", "./..."], { cwd: dir }).then(
      () => 0,
      (e: { code?: number; stderr?: string }) => e.stderr ?? String(e.code),
    );
    expect(vet).toBe(0);
  });
});
