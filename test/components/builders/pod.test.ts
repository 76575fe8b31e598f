import { describe, expect, it } from "vitest";
import { WRITABLE_PATH_SIZE_LIMIT, dependenciesEnv, platformEnv, tmpVolume, writableVolumes } from "../../../components/builders/pod";

describe("writableVolumes", () => {
  it("gives each writable path an emptyDir of its own, mounted there", () => {
    expect(writableVolumes(["/var/run/postgresql", "/var/cache/app"])).toEqual({
      volumes: [
        { name: "writable-0", emptyDir: { sizeLimit: "64Mi" } },
        { name: "writable-1", emptyDir: { sizeLimit: "64Mi" } },
      ],
      mounts: [
        { name: "writable-0", mountPath: "/var/run/postgresql" },
        { name: "writable-1", mountPath: "/var/cache/app" },
      ],
    });
    expect(WRITABLE_PATH_SIZE_LIMIT).toBe("64Mi");
  });

  it("adds nothing without writable paths, and never a name /tmp's volume has", () => {
    expect(writableVolumes([])).toEqual({ volumes: [], mounts: [] });
    expect(writableVolumes(["/a", "/b", "/c"]).volumes.map((v) => v.name)).not.toContain(tmpVolume().volume.name);
  });
});

describe("platformEnv", () => {
  it("sets PORT, and NEXUS_DEPENDENCIES to the addresses, comma-separated, in their order", () => {
    expect(platformEnv(8000, ["redis.data.svc.cluster.local:6379", "postgres.data.svc.cluster.local:5432"])).toEqual([
      { name: "PORT", value: "8000" },
      { name: "NEXUS_DEPENDENCIES", value: "redis.data.svc.cluster.local:6379,postgres.data.svc.cluster.local:5432" },
    ]);
    expect(platformEnv(3000, ["api.core.svc.cluster.local:8000"])).toEqual([
      { name: "PORT", value: "3000" },
      { name: "NEXUS_DEPENDENCIES", value: "api.core.svc.cluster.local:8000" },
    ]);
  });

  it("sets only PORT for a service without dependencies", () => {
    expect(platformEnv(5432, [])).toEqual([{ name: "PORT", value: "5432" }]);
  });
});

describe("dependenciesEnv", () => {
  it("sets NEXUS_DEPENDENCIES alone, and nothing without addresses", () => {
    expect(dependenciesEnv(["api.core.svc.cluster.local:8000", "db.data.svc.cluster.local:5432"])).toEqual([
      { name: "NEXUS_DEPENDENCIES", value: "api.core.svc.cluster.local:8000,db.data.svc.cluster.local:5432" },
    ]);
    expect(dependenciesEnv([])).toEqual([]);
  });
});
