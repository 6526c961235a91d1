/**
 * The Pulumi program: typed config -> components -> stack outputs. Config is validated in full
 * before any resource is created, so a bad key never leaves a half-created stack. Firmware images
 * are read here (the launch digest hashes every page); everything else is in `program.ts`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { AlertRuleGroup } from "../components/index.js";
import { loadStackConfig } from "./config.js";
import { deployStack } from "./program.js";

const { config, secrets } = loadStackConfig();
const root = join(__dirname, "..");
const images = new Map<string, Uint8Array>();
for (const shape of config.launchShapes) {
  const path = config.artifacts[shape.firmware]?.path;
  if (path !== undefined && !images.has(shape.firmware)) images.set(shape.firmware, readFileSync(join(root, path)));
}
// The alert rules the PrometheusRule carries are the reviewed file under deploy/ (read only when used).
const alertRules = config.observability.prometheusOperator
  ? (parse(readFileSync(join(root, "deploy/prometheus/alerts.yaml"), "utf8")) as { groups: AlertRuleGroup[] }).groups
  : [];
const outputs = deployStack({ config, secrets, images, alertRules });

/** The environment class of this stack (dev, staging or prod). */
export const environment = config.environment;
/** The release id the golden manifest is issued for. */
export const release = config.release;
/** The golden manifest (unsigned JSON): every artifact, launch shape and expected measurement. */
export const goldenMeasurements = outputs.goldenMeasurements;
/** The golden manifest signed with the release key (compact JWS, ES384); known after `pulumi up`. */
export const goldenManifest = outputs.goldenManifest;
/** What the verifier enforces for this release. */
export const verifierPolicy = outputs.verifierPolicy;
/** What each host's preflight found (product, chip id, firmware, reported and platform TCB). */
export const hostInventory = outputs.hostInventory;
/** The inventory by chip id, as the drift classifier reads it. */
export const platformInventory = outputs.platformInventory;
/** Expected launch measurement of every guest. */
export const expectedMeasurements = outputs.expectedMeasurements;
/** Service endpoints (inside the cluster). */
export const endpoints = outputs.endpoints;
/** The gateway's client-facing certificate (public): clients pin it when it is self-signed. */
export const gatewayCertificate = outputs.gatewayCertificate;
