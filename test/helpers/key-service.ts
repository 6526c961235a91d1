/**
 * Arguments of a production-like `KeyService` (enterprise HSM, one replica, no store) shared by the
 * KeyService tests; each test file varies them.
 */
import * as pulumi from "@pulumi/pulumi";
import type { KeyServiceArgs } from "../../components/keys/key-service.js";
import { fakePem } from "./components.js";

export const JWS = "eyJhbGciOiJFUzM4NCJ9.eyJyZWxlYXNlIjoiMSJ9.c2ln";
export const PIN = "4711-test-pin";
export const STORE_URL = "postgresql://broker:s3cret-pw@db.ci-data.svc:5432/keybroker";
export const KEY_SERVICE_ARGS: KeyServiceArgs = {
  namespace: "ci-keys",
  image: `registry.example/keybroker@sha256:${"d".repeat(64)}`,
  replicas: 1,
  hsm: {
    kind: "pkcs11",
    module: "/opt/hsm/lib/libCryptoki2_64.so",
    tokenLabel: "ci-prod-broker",
    pin: pulumi.secret(PIN),
    keyLabels: { kek: "ci-kek", signing: "ci-token-signing", ca: "ci-broker-ca" },
  },
  attestation: {
    goldenManifest: JWS,
    manifestPublicKey: fakePem("PUBLIC KEY", "release"),
    verifierPolicy: {
      schemaVersion: 1,
      release: "2026.11.0",
      environment: "prod",
      allowedRoots: ["amd-genoa"],
      measurements: ["ab".repeat(48)],
      tcbFloors: { Genoa: { bootloader: 10, tee: 0, snp: 25, microcode: 84 } },
      allowedPolicyBits: "0x30000",
      allowDebug: false,
      allowMigrationAgent: false,
      requireSmtDisabled: false,
      maxVmpl: 0,
      minGuestSvn: 1,
      collateral: "kds",
      failOpenOnCollateral: false,
      manifestSigningKey: "pem",
    },
  },
  ports: { broker: 8444, admin: 8445, metrics: 9464 },
  operatorCaCertificate: fakePem("CERTIFICATE", "operators"),
  runtimeDnsNames: ["inference-runtime.ci-confidential.svc"],
  lifetimes: { tokenSeconds: 180, sessionKeySeconds: 600, nonceSeconds: 60, rotationGraceSeconds: 300 },
  environment: "prod",
};
