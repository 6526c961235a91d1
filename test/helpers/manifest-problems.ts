/** Golden-manifest validation helpers: the problems a ManifestError carries, and field paths of the dev manifest. */
import { expect } from "vitest";
import { ManifestError, type ManifestProblem } from "../../measurements/manifest/index.js";

/** The problems of the ManifestError that `fn` throws (fails the test when it throws none). */
export function problemsOf(fn: () => unknown): readonly ManifestProblem[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).problems;
  }
  throw new Error("expected a ManifestError");
}

/** Path of the dev manifest's direct-boot launch shape, and of its inputs. */
export const SHAPE = "launchShapes.runtime-small";
export const INPUTS = `${SHAPE}.inputs`;
