import type { Model } from "../../domain/model";
import type { GateOwners } from "./owners";

/**
 * The part of the registry model a CI system is generated from: the environments (with the
 * names of their CI secrets and variables), their promotion order and the pipelines.
 * Adapters read this and nothing else, so the registry model never learns about a CI system.
 */
export type PipelineModel = Pick<Model, "environments" | "promotion" | "pipelines"> & {
  /** Where the pipelines come from, as shown in generated headers, e.g. "registries/pipelines.yaml". */
  readonly sourceFile: string;
};

/** One file a CI adapter produces; `path` is relative to the repository root, with "/" separators. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

/**
 * A CI system. `generate` is a pure function of the model: the same model gives byte-identical
 * files, so the committed output can be checked against it. To add a CI system, implement this
 * interface and register it in cmd/ci/index.ts.
 */
export interface CiAdapter {
  /** The --target name, e.g. "github". */
  readonly name: string;
  /** One line for `nexus ci generate --help`. */
  readonly description: string;
  /**
   * Marker every generated file carries in its first lines; files under `outputDir` that carry it
   * but are no longer generated are stale (reported by --check, removed by generate).
   */
  readonly marker: string;
  /** Folder (relative to the repository root) the adapter owns generated files in. */
  readonly outputDir: string;
  generate(model: PipelineModel): GeneratedFile[];
  /** The file that makes the security gate's owners review changes to it, where the CI system has one. */
  codeowners?(owners: GateOwners): GeneratedFile;
}
