// The push and pull use cases. Their order of steps is the contract in
// exchange.hpp; this file keeps each step small and says why where the
// choice is not obvious.
#include "gateway/exchange/exchange.hpp"

#include "gateway/consent/consent.hpp"
#include "gateway/exchange/detail/documents.hpp"
#include "gateway/exchange/detail/notices.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/handoff/handoff.hpp"
#include "gateway/json/json.hpp"
#include "gateway/store/store.hpp"
#include "gateway/validation/validation.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace gw::exchange {

using detail::audit_event;
using detail::AuditFacts;
using detail::outcome;

namespace {

bool is_withdrawn_status(std::string_view status) { return status == "inactive" || status == "rejected"; }

bool has_operation(const consent::Recipient& r, std::string_view op) {
  return std::find(r.operations.begin(), r.operations.end(), op) != r.operations.end();
}

// The store's messages name tables and operations, never data (store.hpp),
// so the caller and the operator see why a push must be retried.
Reply store_unavailable(const Error& e) {
  Reply r = outcome(503, "transient", "the store is unavailable (" + e.message() + "); retry later");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

Reply issues_reply(int status, std::span<const fhir::Issue> issues) {
  return Reply{status, fhir::operation_outcome_json(issues), {}};
}

// Validation issues of the gateway's own document, relabelled: the caller
// must see that the *handoff built from* its bundle failed, and why.
std::vector<fhir::Issue> as_handoff_issues(std::vector<fhir::Issue> issues) {
  std::vector<fhir::Issue> out;
  for (auto& i : issues) {
    if (i.severity != fhir::Issue::Severity::kError && i.severity != fhir::Issue::Severity::kFatal) continue;
    i.diagnostics = "the handoff document built from this bundle does not conform to the HandoffDocument "
                    "profile (" + i.expression + "): " + i.diagnostics;
    i.expression.clear();
    i.position = {};
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace

struct Exchange::Impl {
  Deps deps;

  const consent::Recipient* registered(std::string_view id) const {
    for (const auto& r : deps.consent->recipients()) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }

  std::string audit(const AuditFacts& facts) const { return audit_event(facts, deps.clock->now()); }

  void audit_async(const AuditFacts& facts) const { deps.store->append_audit({audit(facts)}, {}); }

  // The patient's unrevoked Consents, parsed. A stored one that no longer
  // parses is skipped: it was checked when stored, and a consent that
  // cannot be read permits nothing.
  Result<std::vector<consent::PatientConsent>> held_consents(const std::string& patient_key) const {
    std::vector<consent::PatientConsent> out;
    GW_TRY(auto stored, deps.store->consents(patient_key));
    for (const auto& s : stored) {
      if (s.revoked) continue;
      auto doc = json::Document::parse(s.consent);
      if (!doc) continue;
      if (auto c = consent::parse_consent(doc->root())) out.push_back(std::move(*c));
    }
    return out;
  }

  // Consents for a release. Stored consents are about this patient by
  // construction (they were filed under its key), so they are pointed at
  // the Patient of the document being released.
  Result<std::vector<consent::PatientConsent>> consents_for(const std::string& patient_key,
                                                            const std::string& patient_id) const {
    GW_TRY(auto out, held_consents(patient_key));
    for (auto& c : out) c.patient_reference = "Patient/" + patient_id;
    return out;
  }

  // May `caller` read this patient's records? It pushed or received a
  // handoff for the patient (link under kPatientKeySystem), or an active
  // Consent of the patient names it as an actor of a permit.
  Result<bool> may_read(const std::string& caller, const std::string& patient_key) const {
    GW_TRY(auto linked, deps.store->find_patient({caller, std::string(kPatientKeySystem), patient_key}));
    if (linked && *linked == patient_key) return true;
    GW_TRY(auto consents, held_consents(patient_key));
    for (const auto& c : consents) {
      if (c.status == "active" && detail::permits_actor(c.provision, caller)) return true;
    }
    return false;
  }

  Result<std::optional<std::string>> resolve_patient(const Caller& caller, const PatientRef& p) const {
    if (!p.key.empty()) return std::optional<std::string>(p.key);
    if (p.system.empty() || p.value.empty()) return std::optional<std::string>();
    return deps.store->find_patient({caller.id, p.system, p.value});
  }

  // The pushed bundle against the base definitions and the profiles it
  // names. The reply lists at most kMaxListedIssues; past that many errors
  // the verdict cannot change, so the validator may stop (bounded work per
  // request, however hostile the input).
  Result<std::vector<fhir::Issue>> check_push(json::Value bundle) const {
    validation::ValidateOptions vo;
    vo.max_errors = fhir::kMaxListedIssues;
    return deps.validator->validate(bundle, vo);
  }

  // The HandoffDocument of a pushed bundle (push and warm_up).
  Result<handoff::Handoff> build_handoff(json::Value bundle) const {
    handoff::BuildOptions opt;
    opt.gateway.name = deps.gateway_name;
    opt.clock = deps.clock.get();
    opt.ids = deps.ids.get();
    return handoff::build(*deps.mappings, bundle, opt);
  }

  // The built handoff against its profile: no issues when no profile is
  // configured.
  Result<std::vector<fhir::Issue>> check_handoff(json::Value handoff) const {
    if (deps.handoff_profile.empty()) return std::vector<fhir::Issue>{};
    validation::ValidateOptions vo;
    vo.profiles.push_back(deps.handoff_profile);
    return deps.validator->validate(handoff, vo);
  }

  // A released document, signed when the gateway signs (exchange.hpp,
  // DocumentSigner).
  Result<std::string> signed_document(std::string document) const {
    if (!deps.signer) return document;
    return deps.signer->sign(document, deps.clock->now());
  }

  Reply signed_reply(std::string document) const {
    auto s = signed_document(std::move(document));
    if (!s) return outcome(500, "exception", "the document could not be signed: " + s.error().message());
    return Reply{200, std::move(*s), {}};
  }

  // Releases `document` (a HandoffDocument) for the caller of a pull.
  Reply release_for(const Caller& caller, std::string_view purpose, const std::string& patient_key,
                    const std::string& document, std::string_view action) const {
    auto doc = json::Document::parse(document);
    if (!doc) return outcome(500, "exception", "a stored handoff could not be read");
    auto consents = consents_for(patient_key, detail::patient_id(doc->root()));
    if (!consents) return store_unavailable(consents.error());
    consent::ReleaseRequest req{caller.id, std::string(purpose), std::move(*consents), deps.clock->now()};
    auto r = deps.consent->release(doc->root(), req);
    if (!r) return outcome(500, "exception", "the handoff could not be filtered");
    std::vector<std::string> events{consent::audit_event_json(r->audit, deps.consent->policy())};
    AuditFacts facts{std::string(action), caller.id, patient_key, "", r->outcome == consent::Outcome::kReleased};
    events.push_back(audit(facts));
    deps.store->append_audit(std::move(events), {});
    switch (r->outcome) {
      case consent::Outcome::kReleased:
        return signed_reply(std::move(r->document));
      case consent::Outcome::kRefused:
        return issues_reply(403, r->issues);
      case consent::Outcome::kWithheld:
      case consent::Outcome::kFailedClosed:
        return issues_reply(403, r->issues);
    }
    return outcome(500, "exception", "unexpected release outcome");
  }

  // The ITI-65 transaction carrying a released document (exchange.hpp,
  // "Delivery formats").
  std::string mhd_payload(const std::string& document, json::Value handoff, const std::string& recipient,
                          const std::string& patient_key) const {
    detail::MhdFacts f;
    f.document = document;
    f.document_system = std::string(handoff.find("identifier").find("system").str());
    f.document_identifier = std::string(handoff.find("identifier").find("value").str());
    f.patient_key = patient_key;
    f.recipient = recipient;
    f.source_id = deps.gateway_endpoint;
    f.bundle_id = deps.ids->uuid();
    f.submission_set_id = deps.ids->uuid();
    f.document_reference_id = deps.ids->uuid();
    f.binary_id = deps.ids->uuid();
    f.now = deps.clock->now();
    return detail::mhd_provide_bundle(f);
  }

  // The notices of a withdrawal, built from the rows the store found
  // (runs on the store's writer thread inside the transaction: values only).
  store::WithdrawalNotices notices_for(const std::vector<store::AffectedDelivery>& affected,
                                       const std::string& patient_key) const {
    store::WithdrawalNotices out;
    std::map<std::string, std::vector<const store::AffectedDelivery*>> told;  // by recipient, ordered
    for (const auto& a : affected) {
      if (a.cancelled) {
        out.audit_events.push_back(audit(AuditFacts{"cancel", a.recipient, patient_key, a.handoff_id, true}));
      }
      if (a.maybe_received) told[a.recipient].push_back(&a);
    }
    for (const auto& [recipient, rows] : told) {
      const consent::Recipient* reg = registered(recipient);
      if (!reg) {
        // No longer registered: nowhere to send it. The audit says so.
        out.audit_events.push_back(audit(AuditFacts{"notify", recipient, patient_key, rows.front()->handoff_id, false}));
        continue;
      }
      detail::NoticeFacts f;
      f.task_id = deps.ids->uuid();
      f.recipient = recipient;
      f.patient_key = patient_key;
      f.now = deps.clock->now();
      f.gateway_name = deps.gateway_name;
      for (const auto* a : rows) {
        if (std::find(f.bundle_identifiers.begin(), f.bundle_identifiers.end(), a->bundle_identifier) ==
            f.bundle_identifiers.end()) {
          f.bundle_identifiers.push_back(a->bundle_identifier);
        }
      }
      store::OutboxItem item;
      item.recipient = recipient;
      item.handoff_id = rows.front()->handoff_id;
      if (reg->withdrawal_notice == "message") {
        const std::string message_id = deps.ids->uuid();
        item.payload = detail::withdrawal_message(f, message_id, deps.ids->uuid(), reg->endpoint, deps.gateway_endpoint);
        item.bundle_identifier = "urn:uuid:" + message_id;
        item.path = "$process-message";
      } else {
        item.payload = detail::withdrawal_task(f);
        item.bundle_identifier = "urn:uuid:" + f.task_id;
        item.path = "Task";
      }
      for (const auto* a : rows) {
        out.audit_events.push_back(audit(AuditFacts{"notify", recipient, patient_key, a->handoff_id, true}));
      }
      out.notices.push_back(std::move(item));
    }
    return out;
  }

  // Withdraws a stored consent (see exchange.hpp). `consent_json` is the
  // Consent as the caller sent it (status inactive/rejected).
  Reply withdraw(const Caller& caller, const store::StoredConsent& stored, std::string consent_json) const {
    store::Withdrawal w;
    w.consent_id = stored.consent_id;
    w.consent_json = consent_json;
    w.audit_events.push_back(audit(AuditFacts{"withdraw", caller.id, stored.patient_key, stored.consent_id, true}));
    const std::string patient_key = stored.patient_key;
    w.notices = [this, patient_key](const std::vector<store::AffectedDelivery>& affected) {
      return notices_for(affected, patient_key);
    };
    auto r = deps.store->withdraw_consent(std::move(w));
    if (!r) {
      if (r.error().code() == ErrorCode::kNotFound) return outcome(404, "not-found", "no such consent");
      return store_unavailable(r.error());
    }
    return Reply{200, std::move(consent_json), {}};
  }

  // May `caller` act for this patient (withdraw a consent)? It pushed or
  // received a handoff for them.
  Result<bool> linked(const std::string& caller, const std::string& patient_key) const {
    GW_TRY(auto found, deps.store->find_patient({caller, std::string(kPatientKeySystem), patient_key}));
    return found && *found == patient_key;
  }

  Reply refuse_pull(const Caller& caller, std::string_view action, const std::string& patient_key) const {
    audit_async(AuditFacts{std::string(action), caller.id, patient_key, "", false});
    return outcome(403, "forbidden",
                   "this client has neither sent nor received a handoff for the patient, and no consent names it");
  }
};

Exchange::Exchange(Deps deps) : impl_(std::make_unique<Impl>(Impl{std::move(deps)})) {}
Exchange::~Exchange() = default;

Result<std::shared_ptr<const Exchange>> Exchange::create(Deps deps) {
  if (!deps.validator || !deps.mappings || !deps.consent || !deps.store || !deps.clock || !deps.ids) {
    return fail(ErrorCode::kInvalidArgument, "exchange needs a validator, mappings, consent engine, store, clock and ids");
  }
  if (!deps.handoff_profile.empty()) {
    if (auto s = deps.validator->prepare_profile(deps.handoff_profile); !s) {
      return s.error().with_context("the HandoffDocument profile (is the migrant-care package installed?)");
    }
  }
  return std::shared_ptr<const Exchange>(new Exchange(std::move(deps)));
}

void Exchange::push(const Caller& caller, PushRequest request, std::function<void(Reply)> done) const {
  const Impl& m = *impl_;
  const consent::Recipient* sender = m.registered(caller.id);
  if (!sender || !has_operation(*sender, "submit")) {
    m.audit_async(AuditFacts{"push", caller.id, "", "", false});
    return done(outcome(403, "forbidden", "this client is not registered to submit documents"));
  }

  // Parse and check the envelope before the (costlier) validation.
  fhir::ParsedResource parsed = fhir::parse_resource(std::move(request.body));
  if (!parsed.ok()) return done(issues_reply(400, parsed.issues));
  json::Value bundle = parsed.document.root();
  if (bundle.find("resourceType").str() != "Bundle") {
    return done(outcome(422, "invalid", "push a Bundle (document, transaction or collection)", "Bundle"));
  }
  std::string_view type = bundle.find("type").str();
  if (type != "document" && type != "transaction" && type != "collection") {
    return done(outcome(422, "invalid", "Bundle.type must be document, transaction or collection", "Bundle.type"));
  }
  std::string key = detail::idempotency_key(bundle);
  if (key.empty()) {
    return done(outcome(422, "required",
                        "Bundle.identifier (system and value) is required: it makes a retried push safe",
                        "Bundle.identifier"));
  }

  // A signed push must verify (and an unsigned one be allowed) before the
  // costlier validation: a document altered on its way is refused as such.
  if (m.deps.signer) {
    SignatureCheck check = m.deps.signer->check_incoming(caller.id, bundle, m.deps.clock->now());
    if (!check.accepted) {
      m.audit_async(AuditFacts{"push", caller.id, "", "", false});
      return done(outcome(422, check.code, std::move(check.diagnostics), check.expression));
    }
  }

  auto issues = m.check_push(bundle);
  if (!issues) return done(outcome(400, "invalid", issues.error().message()));
  if (validation::has_errors(*issues)) return done(issues_reply(422, *issues));

  // Recipients: named by the request and by an MHD SubmissionSet.
  std::vector<std::string> recipients = request.recipients;
  for (auto& r : detail::intended_recipients(bundle)) recipients.push_back(std::move(r));
  std::sort(recipients.begin(), recipients.end());
  recipients.erase(std::unique(recipients.begin(), recipients.end()), recipients.end());
  if (recipients.empty()) {
    return done(outcome(422, "required",
                        "name at least one recipient (query parameter `recipient`, or an MHD intendedRecipient)"));
  }
  for (const auto& r : recipients) {
    const consent::Recipient* reg = m.registered(r);
    if (!reg || !has_operation(*reg, "receive")) {
      return done(outcome(422, "not-found", "recipient '" + r + "' is not registered to receive handoffs"));
    }
  }

  // The HandoffDocument, and its conformance: a handoff that the next
  // clinic cannot rely on is refused now, while the sender can fix it.
  auto built = m.build_handoff(bundle);
  if (!built) {
    // The mapping engine's locations are FHIRPath into the input; without
    // one the whole bundle is what no mapping accepted.
    const std::string at = built.error().location();
    return done(outcome(422, "processing", built.error().message(), at.empty() ? "Bundle" : at));
  }

  // The patient's key: the sender's record numbers find a known patient,
  // or are linked to a new key in one store step, so that concurrent first
  // pushes for one patient agree on the key.
  detail::PatientIdentity who = detail::record_numbers(bundle);
  std::string patient_key;
  if (who.record_numbers.empty()) {
    patient_key = m.deps.ids->uuid();
  } else {
    std::vector<store::PatientLink> own;
    for (const auto& [system, value] : who.record_numbers) own.push_back({caller.id, system, value});
    auto linked = m.deps.store->link_patient(std::move(own), m.deps.ids->uuid());
    if (!linked) return done(store_unavailable(linked.error()));
    patient_key = std::move(*linked);
  }

  std::string handoff_json = detail::with_patient_key(built->json, patient_key);
  auto handoff_doc = json::Document::parse(handoff_json);
  if (!handoff_doc) return done(outcome(500, "exception", "the handoff document could not be re-read"));
  if (auto hv = m.check_handoff(handoff_doc->root()); !hv) {
    return done(outcome(500, "exception", hv.error().message()));
  } else if (validation::has_errors(*hv)) {
    return done(issues_reply(422, as_handoff_issues(std::move(*hv))));
  }
  const std::string handoff_id = detail::resource_id(handoff_doc->root());
  const std::string handoff_identifier = detail::identifier_value(handoff_doc->root());

  // Consents sent along with the bundle are kept for later releases, and
  // apply to this one.
  std::vector<consent::PatientConsent> consents;
  for (const auto& [id, text] : detail::consents_in(bundle)) {
    auto doc = json::Document::parse(text);
    if (!doc) continue;
    auto c = consent::parse_consent(doc->root());
    if (!c) return done(outcome(422, "invalid", "a Consent in the bundle cannot be read: " + c.error().message()));
    if (!id.empty() && is_withdrawn_status(c->status)) {
      // A known consent sent back withdrawn: the withdrawal use case
      // (notices, cancellations), not a plain replacement.
      auto stored = m.deps.store->consent(id);
      if (!stored) return done(store_unavailable(stored.error()));
      if (*stored && (*stored)->patient_key == patient_key) {
        if (!(*stored)->revoked) {
          Reply w = m.withdraw(caller, **stored, text);
          if (w.status != 200) return done(std::move(w));
        }
        continue;
      }
    }
    std::string consent_id = id.empty() ? m.deps.ids->uuid() : id;
    if (auto s = m.deps.store->put_consent(patient_key, consent_id, text,
                                           {m.audit(AuditFacts{"consent", caller.id, patient_key, consent_id, true})});
        !s) {
      return done(store_unavailable(s.error()));
    }
  }
  auto held = m.consents_for(patient_key, detail::patient_id(handoff_doc->root()));
  if (!held) return done(store_unavailable(held.error()));
  consents = std::move(*held);

  store::PushRecord rec;
  rec.sender = caller.id;
  rec.idempotency_key = key;
  rec.patient_key = patient_key;
  for (const auto& [system, value] : who.record_numbers) rec.links.push_back({caller.id, system, value});
  rec.links.push_back({caller.id, std::string(kPatientKeySystem), patient_key});
  rec.original = std::string(parsed.document.source());
  rec.handoff_id = handoff_id;
  rec.handoff = handoff_json;
  // The continuity counters keep only these coarse facts (store.hpp,
  // ContinuityFact), counted with the push in one transaction.
  {
    const handoff::ContinuityFacts facts = handoff::continuity_facts(handoff_doc->root(), bundle);
    rec.continuity = store::ContinuityFact{std::string(handoff::follow_up_bucket(facts)), facts.immunizations,
                                           facts.interpreter};
  }
  std::map<std::string, std::uint64_t> redactions;

  // One release per recipient; any refusal or verifier finding stops the
  // whole push: a partly delivered handoff would be a silent loss.
  for (const auto& r : recipients) {
    consent::ReleaseRequest req{r, request.purpose, consents, m.deps.clock->now()};
    auto rel = m.deps.consent->release(handoff_doc->root(), req);
    if (!rel) return done(outcome(422, "processing", "the handoff could not be filtered for a recipient"));
    std::string audit_json = consent::audit_event_json(rel->audit, m.deps.consent->policy());
    if (rel->outcome != consent::Outcome::kReleased) {
      m.deps.store->append_audit({audit_json, m.audit(AuditFacts{"push", caller.id, patient_key, handoff_id, false})},
                                 {});
      return done(issues_reply(rel->outcome == consent::Outcome::kFailedClosed ? 422 : 403, rel->issues));
    }
    rec.audit_events.push_back(std::move(audit_json));
    for (const consent::Removal& removal : rel->removals) {
      ++redactions[removal.category.empty() ? "(" + std::string(consent::to_string(removal.action)) + ")"
                                            : removal.category];
    }
    store::OutboxItem item;
    item.recipient = r;
    item.bundle_identifier = handoff_identifier;
    item.consent_ids = rel->audit.consent_ids;  // what a withdrawal must find
    // Signed as released, before the commit: the outbox holds exactly the
    // bytes the clinic receives (inside the MHD Binary too).
    auto document = m.signed_document(std::move(rel->document));
    if (!document) {
      return done(outcome(500, "exception", "the handoff could not be signed: " + document.error().message()));
    }
    if (m.registered(r)->delivery_format == "mhd") {
      item.payload = m.mhd_payload(*document, handoff_doc->root(), r, patient_key);
    } else {
      item.payload = std::move(*document);
    }
    rec.deliveries.push_back(std::move(item));
    rec.links.push_back({r, std::string(kPatientKeySystem), patient_key});
  }
  rec.audit_events.push_back(m.audit(AuditFacts{"push", caller.id, patient_key, handoff_id, true}));
  rec.response_status = "201";
  rec.response_body = detail::push_accepted_body(handoff_id, patient_key, recipients.size());

  m.deps.store->commit_push(std::move(rec), [done = std::move(done), redactions = std::move(redactions),
                                             counter = m.deps.on_redactions](Result<store::PushResult> r) {
    if (r && !r->duplicate && counter) counter(redactions);
    if (!r) {
      Reply reply = outcome(503, "transient",
                            "the push was not stored (" + r.error().message() + "); retry it (it is safe to repeat)");
      reply.headers.emplace_back("Retry-After", "1");
      return done(std::move(reply));
    }
    int status = 201;
    if (r->response_status == "200") status = 200;
    Reply reply{status, r->response_body, {{"Location", "Bundle/" + r->handoff_id}}};
    if (r->duplicate) reply.headers.emplace_back("X-Duplicate-Of", r->handoff_id);
    done(std::move(reply));
  });
}

Status Exchange::warm_up(std::string sample) const {
  const Impl& m = *impl_;
  // The first problem's location only: a sample is configuration, but the
  // message goes to the operator's console, and the rule holds everywhere.
  auto refused = [](std::string_view step, std::span<const fhir::Issue> issues) {
    std::string at;
    for (const fhir::Issue& i : issues) {
      if (i.severity == fhir::Issue::Severity::kError || i.severity == fhir::Issue::Severity::kFatal) {
        at = i.expression.empty() ? std::string(i.code) : i.expression;
        break;
      }
    }
    return fail(ErrorCode::kInvalidArgument,
                "the warm-up sample is not a push the gateway accepts: " + std::string(step) + " fails at " + at);
  };
  fhir::ParsedResource parsed = fhir::parse_resource(std::move(sample));
  if (!parsed.ok()) return refused("parsing", parsed.issues);
  json::Value bundle = parsed.document.root();
  GW_TRY(auto issues, m.check_push(bundle));
  if (validation::has_errors(issues)) return refused("validation", issues);

  auto built = m.build_handoff(bundle);
  if (!built) {
    return fail(ErrorCode::kInvalidArgument, "the warm-up sample maps to no handoff: " + built.error().message(),
                built.error().location());
  }
  // A key of the right shape; it is linked to nothing.
  GW_TRY(auto handoff_doc, json::Document::parse(detail::with_patient_key(built->json, m.deps.ids->uuid())));
  GW_TRY(auto hv, m.check_handoff(handoff_doc.root()));
  if (validation::has_errors(hv)) return refused("the HandoffDocument profile", hv);
  // Every receiving registration: their kinds take different paths through
  // the policy. A refusal is an answer too (no consents are given here).
  for (const consent::Recipient& r : m.deps.consent->recipients()) {
    if (!has_operation(r, "receive")) continue;
    consent::ReleaseRequest req{r.id, "TREAT", {}, m.deps.clock->now()};
    GW_TRY(auto rel, m.deps.consent->release(handoff_doc.root(), req));
    if (rel.outcome != consent::Outcome::kReleased) continue;
    GW_TRY(auto document, m.signed_document(std::move(rel.document)));
    if (r.delivery_format == "mhd") (void)m.mhd_payload(document, handoff_doc.root(), r.id, "warm-up");
  }
  return {};
}

Reply Exchange::summary(const Caller& caller, const PatientRef& patient, std::string_view purpose) const {
  const Impl& m = *impl_;
  const consent::Recipient* reg = m.registered(caller.id);
  if (!reg || !has_operation(*reg, "pull")) {
    m.audit_async(AuditFacts{"summary", caller.id, "", "", false});
    return outcome(403, "forbidden", "this client is not registered to pull patient summaries");
  }
  auto key = m.resolve_patient(caller, patient);
  if (!key) return store_unavailable(key.error());
  if (!*key) return outcome(404, "not-found", "no patient is known under this identifier for this client");
  auto allowed = m.may_read(caller.id, **key);
  if (!allowed) return store_unavailable(allowed.error());
  if (!*allowed) return m.refuse_pull(caller, "summary", **key);

  auto list = m.deps.store->handoffs_for_patient(**key);
  if (!list) return store_unavailable(list.error());
  if (list->empty()) return outcome(404, "not-found", "nothing is held for this patient");
  std::vector<std::string> documents;
  for (const auto& s : *list) {
    auto h = m.deps.store->handoff(s.handoff_id);
    if (!h) return store_unavailable(h.error());
    if (*h) documents.push_back(std::move((*h)->handoff));
  }
  // One handoff is the summary; several are merged by the same mapping
  // that built them (duplicates across handoffs are merged there).
  std::string merged;
  if (documents.size() == 1) {
    merged = std::move(documents.front());
  } else {
    auto collection = json::Document::parse(detail::collection_of(documents));
    if (!collection) return outcome(500, "exception", "stored handoffs could not be combined");
    handoff::BuildOptions opt;
    opt.gateway.name = m.deps.gateway_name;
    opt.clock = m.deps.clock.get();
    opt.ids = m.deps.ids.get();
    auto built = handoff::build(*m.deps.mappings, collection->root(), opt);
    if (!built) return outcome(500, "exception", "stored handoffs could not be merged: " + built.error().message());
    merged = detail::with_patient_key(built->json, **key);
  }
  return m.release_for(caller, purpose, **key, merged, "summary");
}

Reply Exchange::read_bundle(const Caller& caller, std::string_view handoff_id, std::string_view purpose) const {
  const Impl& m = *impl_;
  const consent::Recipient* reg = m.registered(caller.id);
  if (!reg || !has_operation(*reg, "pull")) {
    return outcome(403, "forbidden", "this client is not registered to read handoff documents");
  }
  auto h = m.deps.store->handoff(handoff_id);
  if (!h) return store_unavailable(h.error());
  // Unknown and forbidden look the same to a caller without rights, so
  // ids cannot be probed.
  if (!*h) return outcome(404, "not-found", "no such handoff document");
  auto allowed = m.may_read(caller.id, (*h)->summary.patient_key);
  if (!allowed) return store_unavailable(allowed.error());
  if (!*allowed) {
    m.audit_async(AuditFacts{"read", caller.id, (*h)->summary.patient_key, std::string(handoff_id), false});
    return outcome(404, "not-found", "no such handoff document");
  }
  Reply r = m.release_for(caller, purpose, (*h)->summary.patient_key, (*h)->handoff, "read");
  if (r.status == 200) {
    r.headers.emplace_back("ETag", "W/\"1\"");
    r.last_modified = (*h)->summary.created_at;
  }
  return r;
}

Reply Exchange::document_references(const Caller& caller, const PatientRef& patient, Page page) const {
  const Impl& m = *impl_;
  const consent::Recipient* reg = m.registered(caller.id);
  if (!reg || !has_operation(*reg, "pull")) {
    return outcome(403, "forbidden", "this client is not registered to search documents");
  }
  auto key = m.resolve_patient(caller, patient);
  if (!key) return store_unavailable(key.error());
  page.count = std::min(page.count, Page::kMaxSize);
  if (!*key) return Reply{200, detail::document_reference_bundle({}, "", page), {}};
  auto allowed = m.may_read(caller.id, **key);
  if (!allowed) return store_unavailable(allowed.error());
  if (!*allowed) return m.refuse_pull(caller, "search", **key);
  auto list = m.deps.store->handoffs_for_patient(**key);
  if (!list) return store_unavailable(list.error());
  m.audit_async(AuditFacts{"search", caller.id, **key, "", true});
  return Reply{200, detail::document_reference_bundle(*list, **key, page), {}};
}

Reply Exchange::update_consent(const Caller& caller, std::string_view consent_id, std::string body) const {
  const Impl& m = *impl_;
  fhir::ParsedResource parsed = fhir::parse_resource(std::move(body));
  if (!parsed.ok()) return issues_reply(400, parsed.issues);
  json::Value root = parsed.document.root();
  if (root.find("resourceType").str() != "Consent") {
    return outcome(400, "invalid", "the body of PUT Consent/{id} must be a Consent", "Consent");
  }
  if (root.find("id").str() != consent_id) {
    return outcome(400, "invalid", "Consent.id must match the id in the URL", "Consent.id");
  }
  validation::ValidateOptions consent_options;
  consent_options.max_errors = fhir::kMaxListedIssues;
  auto issues = m.deps.validator->validate(root, consent_options);
  if (!issues) return outcome(400, "invalid", issues.error().message());
  if (validation::has_errors(*issues)) return issues_reply(422, *issues);
  auto c = consent::parse_consent(root);
  if (!c) return outcome(422, "invalid", "the Consent cannot be read: " + c.error().message());
  if (!is_withdrawn_status(c->status)) {
    return outcome(422, "business-rule",
                   "only a withdrawal (status inactive or rejected) can be sent this way; new consents travel "
                   "inside a pushed bundle",
                   "Consent.status");
  }
  auto stored = m.deps.store->consent(consent_id);
  if (!stored) return store_unavailable(stored.error());
  if (!*stored) return outcome(404, "not-found", "no such consent");
  auto allowed = m.linked(caller.id, (*stored)->patient_key);
  if (!allowed) return store_unavailable(allowed.error());
  if (!*allowed) {
    m.audit_async(AuditFacts{"withdraw", caller.id, (*stored)->patient_key, std::string(consent_id), false});
    return outcome(403, "forbidden", "only an organisation that sent or received this patient's records may withdraw");
  }
  return m.withdraw(caller, **stored, std::string(parsed.document.source()));
}

}  // namespace gw::exchange
