import type { AwaitBehaviour } from "./labels";

/** What every component needs to know about the stack it is deployed into. Plain values only. */
export interface PlatformContext extends AwaitBehaviour {
  /** The registry environment, e.g. "dev". */
  environment: string;
}
