// The operator dashboard (issue #10) against the real gateway: who may use
// its API, what a replay does, and the page itself in a real headless
// Chromium driven over the DevTools protocol (a small CDP client on
// Boost.Beast's websocket below; no npm). The gateway runs with TLS and
// SMART as in production; Chromium is told to accept the test CA's
// certificate, and the page signs in with an operator's access token.
//
// The setting: one handoff pushed for demo-clinic, whose simulator refuses
// it (422), so it becomes a dead letter at once. The test then switches the
// clinic to accept, clicks Replay in the page, and checks that the dead
// letter left the table and that the clinic got the handoff (the row was
// pending again and the forwarder delivered it).
#include "tests/hardening/live_gateway.hpp"

#include "gateway/forward/forward.hpp"
#include "gateway/json/json.hpp"
#include "tests/support/process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdlib>
#include <thread>

namespace gw::hardening {
namespace {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

constexpr std::string_view kOpsScopes = "system/Operations.read system/Operations.write";

// --- a minimal Chrome DevTools Protocol client ---------------------------------

// One browser connection in flattened session mode: commands to the page
// carry its sessionId; events in between are skipped.
class Cdp {
 public:
  ~Cdp() {
    boost::system::error_code ec;
    if (ws_) ws_->next_layer().close(ec);
  }

  // Starts Chromium headless with a throwaway profile, waits for the
  // DevTools port it writes into the profile, opens a page.
  bool start(const std::string& dir) {
    const std::string profile = dir + "/chromium-profile";
    fs::create_directories(profile);
    testing::ProcessOptions o;
    o.argv = {"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--ignore-certificate-errors", "--remote-debugging-port=0",
              "--remote-debugging-address=127.0.0.1", "--user-data-dir=" + profile, "about:blank"};
    o.stderr_path = dir + "/chromium.log";
    auto child = testing::ChildProcess::spawn(o);
    if (!child) return false;
    browser_ = std::move(*child);
    // Chromium writes "PORT\n/devtools/browser/ID" once it listens.
    std::string port, path;
    for (int i = 0; i < 600 && path.empty(); ++i) {
      std::ifstream in(profile + "/DevToolsActivePort");
      std::getline(in, port);
      std::getline(in, path);
      if (path.empty()) std::this_thread::sleep_for(50ms);
    }
    if (path.empty()) return false;
    ws_.emplace(ioc_);
    boost::system::error_code ec;
    ws_->next_layer().connect({net::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(std::stoi(port))}, ec);
    if (ec) return false;
    ws_->handshake("127.0.0.1:" + port, path, ec);
    if (ec) return false;
    auto target = call("Target.createTarget", R"({"url":"about:blank"})", false);
    if (!target) return false;
    const std::string target_id(target->root().find("targetId").str());
    auto attached = call("Target.attachToTarget", R"({"targetId":")" + target_id + R"(","flatten":true})", false);
    if (!attached) return false;
    session_ = std::string(attached->root().find("sessionId").str());
    return !session_.empty() && call("Page.enable", "{}") && call("Runtime.enable", "{}");
  }

  // Sends a command and returns its `result` (nullopt on an error answer).
  std::optional<json::Document> call(std::string_view method, const std::string& params, bool to_page = true) {
    const int id = ++next_id_;
    std::string msg = R"({"id":)" + std::to_string(id) + R"(,"method":")" + std::string(method) + R"(","params":)" + params;
    if (to_page) msg += R"(,"sessionId":")" + session_ + "\"";
    msg += "}";
    boost::system::error_code ec;
    ws_->text(true);
    ws_->write(net::buffer(msg), ec);
    if (ec) return std::nullopt;
    for (;;) {
      boost::beast::flat_buffer buffer;
      ws_->read(buffer, ec);
      if (ec) return std::nullopt;
      auto doc = json::Document::parse(boost::beast::buffers_to_string(buffer.data()));
      if (!doc) return std::nullopt;
      const json::Value root = doc->root();
      if (!root.find("id").is_number() || root.find("id").str() != std::to_string(id)) continue;  // an event
      if (root.find("error")) {
        last_error_ = std::string(root.find("error").find("message").str());
        return std::nullopt;
      }
      // Re-parse the result on its own so callers get a Document rooted there.
      json::Writer w;
      w.value(root.find("result"));
      auto result = json::Document::parse(std::move(w).take());
      if (!result) return std::nullopt;
      return std::move(*result);
    }
  }

  // Evaluates JavaScript in the page (awaiting a promise) and returns its
  // value as a string ("" for undefined/null, JSON text for others).
  std::optional<std::string> eval(const std::string& expression) {
    json::Writer p;
    p.begin_object();
    p.key("expression");
    p.string(expression);
    p.key("awaitPromise");
    p.boolean(true);
    p.key("returnByValue");
    p.boolean(true);
    p.end_object();
    auto r = call("Runtime.evaluate", std::move(p).take());
    if (!r || r->root().find("exceptionDetails")) return std::nullopt;
    const json::Value v = r->root().find("result").find("value");
    if (v.is_string()) return std::string(v.str());
    if (!v || v.is_null()) return std::string();
    json::Writer w;
    w.value(v);
    return std::move(w).take();
  }

  // Evaluates `condition` in the page until it is true (the page polls
  // itself, so one round trip covers the wait); false after `limit`.
  bool wait_for(const std::string& condition, int limit_ms = 30000) {
    auto r = eval("new Promise((resolve) => { const t0 = Date.now(); (function poll() { let ok = false; "
                  "try { ok = !!(" + condition + "); } catch (e) {} "
                  "if (ok) resolve('yes'); else if (Date.now() - t0 > " + std::to_string(limit_ms) +
                  ") resolve('no'); else setTimeout(poll, 50); })(); })");
    return r && *r == "yes";
  }

  // Navigates and waits until the new document has loaded (its path is
  // `path`), retrying evaluations that hit the document being replaced.
  bool navigate(const std::string& url, const std::string& path) {
    json::Writer p;
    p.begin_object();
    p.key("url");
    p.string(url);
    p.end_object();
    if (!call("Page.navigate", std::move(p).take())) return false;
    for (int i = 0; i < 300; ++i) {
      auto here = eval("document.readyState === 'complete' ? location.pathname : ''");
      if (here && *here == path) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  const std::string& last_error() const { return last_error_; }

 private:
  net::io_context ioc_;
  std::optional<websocket::stream<net::ip::tcp::socket>> ws_;
  std::unique_ptr<testing::ChildProcess> browser_;
  std::string session_, last_error_;
  int next_id_ = 0;
};

// --- the gateway under test -----------------------------------------------------------

struct OpsLive {
  Live live;
  std::unique_ptr<forward::ClinicSim> clinic;
  http::testing::TestKey ops_key = http::testing::make_ec_key("ops-ec");

  bool start() {
    if (!live.prepare()) return false;
    forward::SimOptions o;
    o.cert_file = live.certs + "/server.crt";
    o.key_file = live.certs + "/server.key";
    o.client_ca_file = live.certs + "/ca.crt";
    o.mode = forward::SimMode::kReject;  // refuses: the first handoff dead-letters at once
    auto sim = forward::ClinicSim::start(o);
    if (!sim) return false;
    clinic = std::move(*sim);
    live.clinic_endpoint = "https://127.0.0.1:" + std::to_string(clinic->port()) + "/fhir";
    live.retry = R"({"base_ms": 60000, "cap_ms": 600000, "max_attempts": 3})";
    live.extra_recipients = R"(,
    {"id": "demo-ops", "organization": "Gateway operations", "kind": "operator", "operations": []})";
    live.extra_smart_clients = R"(,
      "demo-ops": {"jwks": )" + http::testing::jwks_of({&ops_key}) +
                               R"(, "scopes": ["system/Operations.read", "system/Operations.write"]})";
    live.extra_top_level = R"(,
  "ops": {"operators": ["demo-ops"], "min_cell_size": 5})";
    return live.launch();
  }

  Reply get(const std::string& path, Who who, const std::string& token = {},
            const std::string& method = "GET", Headers headers = {}) {
    TestClient c(live.as(who));
    if (c.connect(live.port)) return {};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return c.request(method, path, {}, headers);
  }

  // The dead letters as the API lists them (ids), polled until `want` of
  // them are there.
  std::vector<std::int64_t> dead_letters(const std::string& token, std::size_t want) {
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 400; ++i) {
      ids.clear();
      Reply r = get("/ops/api/dead-letters", Who::kAnonymous, token);
      auto doc = json::Document::parse(r.body);
      if (r.status == 200 && doc) {
        const json::Value list = doc->root().find("dead_letters");
        for (std::size_t k = 0; list.is_array() && k < list.size(); ++k) {
          ids.push_back(std::stoll(std::string(list[k].find("id").str())));
        }
      }
      if (ids.size() >= want) break;
      std::this_thread::sleep_for(50ms);
    }
    return ids;
  }
};

TEST(OpsDashboard, OnlyOperatorsUseTheApiAndReplayIsAudited) {
  OpsLive g;
  ASSERT_TRUE(g.start());
  {
    TestClient c(g.live.as(Who::kHospital));
    ASSERT_FALSE(c.connect(g.live.port));
    Reply pushed = c.request("POST", std::string(kPush), g.live.bundle("ops-api"),
                             {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(pushed.status, 201) << pushed.body;
  }
  const std::string ops = g.live.token_for("demo-ops", g.ops_key, kOpsScopes);
  const std::string read_only = g.live.token_for("demo-ops", g.ops_key, "system/Operations.read");
  const std::string hospital = g.live.token(Who::kHospital, "system/Bundle.c");
  ASSERT_FALSE(ops.empty());
  ASSERT_FALSE(read_only.empty());
  ASSERT_FALSE(hospital.empty());

  // No identity: 401 with a Bearer challenge.
  Reply anon = g.get("/ops/api/queues", Who::kAnonymous);
  EXPECT_EQ(anon.status, 401) << anon.body;
  EXPECT_NE(anon.header("www-authenticate").find("Bearer"), std::string::npos);
  // A registered client without the scope, and one with a certificate but
  // no operator role: 403.
  EXPECT_EQ(g.get("/ops/api/queues", Who::kAnonymous, hospital).status, 403);
  EXPECT_EQ(g.get("/ops/api/continuity", Who::kHospital).status, 403);
  // The operator: 200, JSON, not cached.
  Reply queues = g.get("/ops/api/queues", Who::kAnonymous, read_only);
  ASSERT_EQ(queues.status, 200) << queues.body;
  EXPECT_EQ(queues.header("content-type"), "application/json");
  EXPECT_EQ(queues.header("cache-control"), "no-store");
  EXPECT_NE(queues.body.find("\"recipient\":\"demo-clinic\""), std::string::npos) << queues.body;

  const auto dead = g.dead_letters(read_only, 1);
  ASSERT_EQ(dead.size(), 1u) << "the refused handoff never became a dead letter";
  Reply listed = g.get("/ops/api/dead-letters", Who::kAnonymous, read_only);
  EXPECT_NE(listed.body.find("\"error_class\":\"HTTP 422\""), std::string::npos) << listed.body;
  // No patient data and no document in the listing.
  EXPECT_EQ(listed.body.find(std::string(kMarker)), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find("urn:uuid"), std::string::npos) << listed.body;

  // One handoff is below the minimum cell size: nothing but "<5".
  Reply cont = g.get("/ops/api/continuity", Who::kAnonymous, read_only);
  ASSERT_EQ(cont.status, 200);
  EXPECT_NE(cont.body.find("\"handoffs\":\"<5\""), std::string::npos) << cont.body;
  EXPECT_EQ(cont.body.find("\"handoffs\":1"), std::string::npos) << cont.body;
  EXPECT_NE(cont.body.find("\"share\":null"), std::string::npos) << cont.body;

  const std::string replay = "/ops/api/dead-letters/" + std::to_string(dead[0]) + "/replay";
  const Headers csrf = {{"X-Ops-Request", "1"}};
  // Reading is not enough to replay; nor is a request without the header.
  EXPECT_EQ(g.get(replay, Who::kAnonymous, read_only, "POST", csrf).status, 403);
  EXPECT_EQ(g.get(replay, Who::kAnonymous, ops, "POST").status, 403);
  EXPECT_EQ(g.get("/ops/api/dead-letters/999999/replay", Who::kAnonymous, ops, "POST", csrf).status, 404);
  EXPECT_EQ(g.get("/ops/api/dead-letters/x1/replay", Who::kAnonymous, ops, "POST", csrf).status, 400);
  g.clinic->set_mode(forward::SimMode::kOk);
  Reply replayed = g.get(replay, Who::kAnonymous, ops, "POST", csrf);
  ASSERT_EQ(replayed.status, 200) << replayed.body;
  EXPECT_TRUE(g.dead_letters(read_only, 0).empty());
  // Once more: no longer a dead letter.
  EXPECT_EQ(g.get(replay, Who::kAnonymous, ops, "POST", csrf).status, 404);
  // Delivered now, and measured: one delivery in demo-clinic's latency.
  Reply latency;
  for (int i = 0; i < 400; ++i) {
    latency = g.get("/ops/api/latency", Who::kAnonymous, read_only);
    if (latency.body.find("\"delivered\":1,") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(latency.body.find(R"({"recipient":"demo-clinic","delivered":1,)"), std::string::npos) << latency.body;
  EXPECT_NE(latency.body.find("\"p50_s\":"), std::string::npos) << latency.body;

  // /metrics carries the families, without the suppressed counts.
  Reply metrics = g.get("/metrics", Who::kHospital);
  EXPECT_NE(metrics.body.find("gw_continuity_min_cell_size 5"), std::string::npos);
  EXPECT_EQ(metrics.body.find("\ngw_continuity_handoffs "), std::string::npos);
  EXPECT_NE(metrics.body.find("# TYPE gw_delivery_latency_seconds histogram"), std::string::npos);
  // The forwarder's outcomes: the delivery that was dead-lettered, then
  // replayed and delivered, is counted under each.
  auto counter = [&](const std::string& series) -> long long {
    std::size_t at = metrics.body.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::atoll(metrics.body.c_str() + at + series.size() + 2);
  };
  EXPECT_EQ(counter(R"(gw_delivery_outcomes_total{recipient="demo-clinic",outcome="delivered"})"), 1) << metrics.body;
  EXPECT_GE(counter(R"(gw_delivery_outcomes_total{recipient="demo-clinic",outcome="dead_lettered"})"), 1);
  EXPECT_GE(counter(R"(gw_delivery_attempts_total{recipient="demo-clinic"})"), 2);
  EXPECT_EQ(counter(R"(gw_delivery_worker_failures_total{recipient="demo-clinic"})"), 0);

  // The replay is in the audit trail (the store's hash chain).
  g.live.gateway->signal(SIGTERM);
  g.live.gateway->wait();
  g.live.gateway.reset();
  const std::string exported = g.live.dir + "/audit.json";
  const std::string cmd = std::string(GW_GATEWAY_BIN) + " audit export --store " + g.live.dir + "/gateway.db >" +
                          exported + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // ... naming the operator who asked for it.
  const std::string trail = read_text(exported);
  const auto at = trail.find("\"code\":\"replay\"");
  ASSERT_NE(at, std::string::npos) << trail;
  // The export is canonical JSON (sorted keys): the event is the entry
  // around the subtype.
  const auto from = trail.rfind("{\"resource\":{", at);
  ASSERT_NE(from, std::string::npos);
  const std::string event = trail.substr(from, trail.find("{\"resource\":{", at) - from);
  EXPECT_NE(event.find("\"value\":\"demo-ops\""), std::string::npos) << event;
}

TEST(OpsDashboard, BrowserShowsQueuesAndReplaysADeadLetter) {
  if (::access("/usr/bin/chromium", X_OK) != 0) GTEST_SKIP() << "/usr/bin/chromium missing";
  OpsLive g;
  ASSERT_TRUE(g.start());
  {
    TestClient c(g.live.as(Who::kHospital));
    ASSERT_FALSE(c.connect(g.live.port));
    Reply pushed = c.request("POST", std::string(kPush), g.live.bundle("ops-browser"),
                             {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(pushed.status, 201) << pushed.body;
  }
  {
    // And one refused by validation (a gender outside the required value
    // set), for the table of failures by rule.
    TestClient c(g.live.as(Who::kHospital));
    ASSERT_FALSE(c.connect(g.live.port));
    Reply refused = c.request("POST", std::string(kPush),
                              with(g.live.bundle("ops-invalid"), "\"gender\": \"female\"", "\"gender\": \"femme\""),
                              {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(refused.status, 422) << refused.body;
  }
  const std::string token = g.live.token_for("demo-ops", g.ops_key, kOpsScopes);
  ASSERT_FALSE(token.empty());
  const auto dead = g.dead_letters(token, 1);
  ASSERT_EQ(dead.size(), 1u);
  const std::string id = std::to_string(dead[0]);

  // The page itself needs no identity and sends a strict policy.
  Reply page = g.get("/ops", Who::kAnonymous);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.header("content-security-policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page.header("content-security-policy").find("unsafe-inline"), std::string::npos);

  Cdp cdp;
  ASSERT_TRUE(cdp.start(g.live.dir)) << "Chromium did not start: " << read_text(g.live.dir + "/chromium.log");
  const std::string base = "https://127.0.0.1:" + std::to_string(g.live.port);

  // Without a token the page asks for one.
  ASSERT_TRUE(cdp.navigate(base + "/ops", "/ops")) << cdp.last_error();
  ASSERT_TRUE(cdp.wait_for("document.body.dataset.state === 'login'"));
  EXPECT_EQ(cdp.eval("document.getElementById('login').hidden ? 'hidden' : 'shown'"), "shown");

  // Signing in through the form (typed into the field, submitted).
  ASSERT_TRUE(cdp.eval("(() => { document.getElementById('token').value = '" + token +
                       "'; document.querySelector('#login button[type=submit]').click(); return 'ok'; })()"));
  ASSERT_TRUE(cdp.wait_for("document.body.dataset.state === 'ready'")) << cdp.eval("document.body.outerHTML").value_or("");

  // What it shows: the queue row, the dead letter with its error class,
  // the continuity tables with the small count suppressed.
  EXPECT_EQ(cdp.eval("document.querySelector('#queues tr[data-recipient=\"demo-clinic\"] td:nth-child(4)').textContent"),
            "1");
  EXPECT_EQ(cdp.eval("document.querySelector('#dead-letters tr[data-id=\"" + id + "\"] td:nth-child(5)').textContent"),
            "HTTP 422");
  EXPECT_EQ(cdp.eval("document.querySelector('#continuity tr[data-measure=\"Handoffs counted\"] td:nth-child(2)').textContent"),
            "<5");
  EXPECT_EQ(cdp.eval("document.getElementById('min-cell').textContent"), "5");
  EXPECT_EQ(cdp.eval("String(document.querySelectorAll('#follow-up tbody tr').length)"), "7");
  EXPECT_EQ(cdp.eval("document.querySelector('#validation tr[data-rule=\"code-invalid\"] td:nth-child(3)').textContent"),
            "1")
      << cdp.eval("document.getElementById('validation').innerText").value_or("");
  const auto text = cdp.eval("document.body.innerText");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find(std::string(kMarker)), std::string::npos);

  // Replay: the clinic now accepts; the click calls the API and reloads.
  g.clinic->set_mode(forward::SimMode::kOk);
  const std::string loads = cdp.eval("document.body.dataset.loads").value_or("");
  ASSERT_TRUE(cdp.eval("(() => { document.querySelector('button.replay[data-id=\"" + id +
                       "\"]').click(); return 'clicked'; })()"));
  ASSERT_TRUE(cdp.wait_for("document.body.dataset.loads !== '" + loads + "' && document.body.dataset.state === 'ready'"));
  EXPECT_EQ(cdp.eval("document.querySelector('#dead-letters tr[data-id=\"" + id + "\"]') ? 'still there' : 'gone'"),
            "gone");
  EXPECT_NE(cdp.eval("document.getElementById('status').textContent").value_or("").find("queued again"),
            std::string::npos);
  // The store row was pending again: the forwarder picked it up and the
  // clinic accepted the handoff.
  for (int i = 0; i < 400 && g.clinic->counts().accepted == 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(g.clinic->counts().accepted, 1u);
  EXPECT_TRUE(g.dead_letters(token, 0).empty());
}

}  // namespace
}  // namespace gw::hardening
