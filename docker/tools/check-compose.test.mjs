// Tests of check-compose.mjs (node --test): docker/compose.yaml passes, and
// each way of breaking it is reported at its place. Run by ctest
// (compose_schema) through docker/check-compose --self-test.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";
import { checkCompose, readCompose } from "./check-compose.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const composeFile = path.resolve(here, "..", "compose.yaml");
const base = path.dirname(composeFile);
const fresh = () => readCompose(composeFile);

test("docker/compose.yaml passes the schema and the deployment checks", () => {
  assert.deepEqual(checkCompose(fresh(), base), []);
});

test("an unknown service key is a schema error naming the key", () => {
  const doc = fresh();
  doc.services.gw2.healthchek = {};
  assert.deepEqual(checkCompose(doc, base), ["schema: /services/gw2 must NOT have additional properties (healthchek)"]);
});

test("a wrongly typed value is a schema error at its path", () => {
  const doc = fresh();
  doc.services.postgres.healthcheck.retries = "many";
  assert.ok(checkCompose(doc, base).includes("schema: /services/postgres/healthcheck/retries must be number"));
});

test("one gateway node is not a multi-node deployment", () => {
  const doc = fresh();
  delete doc.services.gw2;
  delete doc.services.nginx.depends_on.gw2;
  assert.ok(checkCompose(doc, base).includes("services: fewer than two gateway nodes (command serve)"));
});

test("nodes must wait for a healthy store", () => {
  const doc = fresh();
  doc.services.gw1.depends_on.postgres.condition = "service_started";
  assert.deepEqual(checkCompose(doc, base), ["services.gw1: does not wait for a healthy postgres"]);
});

test("configuration and certificates are mounted read-only", () => {
  const doc = fresh();
  doc.services.gw2.volumes = doc.services.gw2.volumes.map((v) => v.replace(/:ro$/, ""));
  const problems = checkCompose(doc, base);
  assert.ok(problems.includes("services.gw2: no read-only configuration mount"));
  assert.ok(problems.includes("services.gw2: no read-only certificate mount"));
});

test("every node must be in nginx's upstream", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-check-"));
  try {
    fs.cpSync(base, dir, { recursive: true, filter: (src) => !src.includes("node_modules") && !src.endsWith("/certs") });
    const conf = path.join(dir, "compose", "nginx.conf");
    fs.writeFileSync(conf, fs.readFileSync(conf, "utf8").replace(/server gw2:8443[^;]*;/, ""));
    assert.deepEqual(checkCompose(fresh(), dir), ["compose/nginx.conf: node gw2 is not in the upstream"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a bind-mounted file that does not exist is reported", () => {
  const doc = fresh();
  doc.services.gw1.volumes[0] = "./compose/no-such-node.json:/srv/gateway/config/node.json:ro";
  assert.deepEqual(checkCompose(doc, base), ["services.gw1.volumes: ./compose/no-such-node.json does not exist"]);
});

test("the store, the clinics and the front are required", () => {
  const doc = fresh();
  delete doc.services.clinic_b;
  delete doc.services["clinic-b"];
  delete doc.services.postgres.healthcheck;
  for (const n of ["gw1", "gw2"]) delete doc.services[n].depends_on["clinic-b"];
  const problems = checkCompose(doc, base);
  assert.ok(problems.includes("services: fewer than two clinic simulators"));
  assert.ok(problems.includes("services.postgres: no health check"));
});
