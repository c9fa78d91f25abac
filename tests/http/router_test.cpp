// Router matching and the FHIR REST conventions, without a network.
#include "gateway/http/http.hpp"

#include <gtest/gtest.h>

namespace gw::http {
namespace {

SyncHandler ok() {
  return [](const Request&) { return Response::text(200, "ok"); };
}

Router sample_router() {
  Router r;
  EXPECT_TRUE(r.add("GET", "/fhir/{type}/{id}", ok()));
  EXPECT_TRUE(r.add("GET", "/fhir/Bundle/{id}", ok()));
  EXPECT_TRUE(r.add("PUT", "/fhir/Bundle/{id}", ok()));
  EXPECT_TRUE(r.add("POST", "/fhir/$validate", ok()));
  EXPECT_TRUE(r.add("POST", "/fhir/{type}/$validate", ok()));
  EXPECT_TRUE(r.add("GET", "/healthz", ok()));
  return r;
}

TEST(Router, RejectsMalformedAndDuplicateTemplates) {
  Router r;
  EXPECT_FALSE(r.add("GET", "healthz", ok()));
  EXPECT_FALSE(r.add("GET", "/a//b", ok()));
  EXPECT_FALSE(r.add("GET", "/a/{}", ok()));
  EXPECT_FALSE(r.add("GET", "/a/{x", ok()));
  EXPECT_FALSE(r.add("GET", "/a/x{y}", ok()));
  EXPECT_TRUE(r.add("GET", "/a/{x}", ok()));
  EXPECT_FALSE(r.add("GET", "/a/{x}", ok()));
  EXPECT_TRUE(r.add("POST", "/a/{x}", ok()));
}

TEST(Router, LiteralSegmentsBeatParameters) {
  Router r = sample_router();
  Match m = r.match("GET", "/fhir/Bundle/abc");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.route->path_template, "/fhir/Bundle/{id}");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"id", "abc"}));

  Match p = r.match("GET", "/fhir/Patient/p1");
  ASSERT_EQ(p.kind, Match::Kind::kFound);
  EXPECT_EQ(p.route->path_template, "/fhir/{type}/{id}");

  Match v = r.match("POST", "/fhir/$validate");
  ASSERT_EQ(v.kind, Match::Kind::kFound);
  EXPECT_EQ(v.route->path_template, "/fhir/$validate");
  Match tv = r.match("POST", "/fhir/Patient/$validate");
  ASSERT_EQ(tv.kind, Match::Kind::kFound);
  EXPECT_EQ(tv.route->path_template, "/fhir/{type}/$validate");
  // An operation is never an id: Bundle/$validate is the type-level
  // operation, not a read of Bundle/{id} (found by the conformance kit).
  Match bv = r.match("POST", "/fhir/Bundle/$validate");
  ASSERT_EQ(bv.kind, Match::Kind::kFound);
  EXPECT_EQ(bv.route->path_template, "/fhir/{type}/$validate");
  EXPECT_EQ(r.match("GET", "/fhir/Bundle/$everything").kind, Match::Kind::kNotFound);
}

TEST(Router, DecodesParametersAndLiterals) {
  Router r = sample_router();
  Match m = r.match("GET", "/fhir/Bundle/a%2Fb");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.params[0].second, "a/b");
  Match v = r.match("POST", "/fhir/%24validate");
  ASSERT_EQ(v.kind, Match::Kind::kFound);
  EXPECT_EQ(v.route->path_template, "/fhir/$validate");
  EXPECT_EQ(r.match("GET", "/fhir/Bundle/%zz").kind, Match::Kind::kNotFound);
  EXPECT_EQ(r.match("GET", "/fhir/Bundle/a%00").kind, Match::Kind::kNotFound);
}

TEST(Router, DistinguishesNotFoundFromMethodNotAllowed) {
  Router r = sample_router();
  EXPECT_EQ(r.match("GET", "/nothing").kind, Match::Kind::kNotFound);
  EXPECT_EQ(r.match("GET", "/healthz/").kind, Match::Kind::kNotFound);
  EXPECT_EQ(r.match("GET", "").kind, Match::Kind::kNotFound);
  EXPECT_EQ(r.match("GET", "/fhir/Bundle/").kind, Match::Kind::kNotFound);  // empty parameter
  Match m = r.match("DELETE", "/fhir/Bundle/x");
  EXPECT_EQ(m.kind, Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, PUT");
  Match h = r.match("POST", "/healthz");
  EXPECT_EQ(h.kind, Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(h.allow, "GET");
}

TEST(Router, ParsesQueryStrings) {
  auto q = parse_query("a=1&b=x%20y+z&&flag&_format=json");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>{"b", "x y z"}));
  EXPECT_EQ((*q)[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_FALSE(parse_query("a=%4"));
  EXPECT_FALSE(parse_query("a=%G0"));
  EXPECT_EQ(percent_decode("%41+b"), std::optional<std::string>("A+b"));
}

Request req_with(std::vector<std::pair<std::string, std::string>> headers,
                 std::vector<std::pair<std::string, std::string>> query = {}) {
  Request r;
  r.method = "POST";
  r.path = "/fhir/$validate";
  r.headers = std::move(headers);
  r.query = std::move(query);
  r.body = "{}";
  return r;
}

Route fhir_route(bool body) {
  Route r;
  r.method = "POST";
  r.path_template = "/fhir/$validate";
  r.fhir_body = body;
  return r;
}

TEST(Conventions, ContentTypeMustBeFhirJsonOrJson) {
  Route route = fhir_route(true);
  Request a = req_with({{"content-type", "application/fhir+json; charset=utf-8"}});
  EXPECT_FALSE(apply_conventions(route, a));
  Request b = req_with({{"content-type", "Application/JSON"}});
  EXPECT_FALSE(apply_conventions(route, b));
  Request c = req_with({{"content-type", "application/xml"}});
  auto e = apply_conventions(route, c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 415);
  EXPECT_EQ(e->content_type, "application/fhir+json");
  Request d = req_with({});
  EXPECT_EQ(apply_conventions(route, d)->status, 415);
  Request empty = req_with({{"content-type", "application/fhir+json"}});
  empty.body.clear();
  EXPECT_EQ(apply_conventions(route, empty)->status, 400);
}

TEST(Conventions, FormatAndAcceptChooseTheMediaType) {
  Route route = fhir_route(false);
  Request f = req_with({}, {{"_format", "json"}});
  EXPECT_FALSE(apply_conventions(route, f));
  EXPECT_EQ(f.response_media_type, "application/fhir+json");
  Request j = req_with({}, {{"_format", "application/json"}});
  EXPECT_FALSE(apply_conventions(route, j));
  EXPECT_EQ(j.response_media_type, "application/json");
  Request x = req_with({}, {{"_format", "xml"}});
  EXPECT_EQ(apply_conventions(route, x)->status, 406);
  Request ax = req_with({{"accept", "application/fhir+xml"}});
  EXPECT_EQ(apply_conventions(route, ax)->status, 406);
  Request any = req_with({{"accept", "text/html, */*;q=0.8"}});
  EXPECT_FALSE(apply_conventions(route, any));
  Request none = req_with({{"accept", "application/fhir+json;q=0, application/xml"}});
  EXPECT_EQ(apply_conventions(route, none)->status, 406);
  // /metrics and probes are not FHIR routes: Accept does not apply.
  Route metrics = fhir_route(false);
  metrics.fhir_api = false;
  Request scrape = req_with({{"accept", "application/openmetrics-text; version=1.0.0"}});
  EXPECT_FALSE(apply_conventions(metrics, scrape));
}

TEST(Conventions, PreferReturn) {
  Route route = fhir_route(false);
  for (auto [text, expect] : {std::pair{"return=minimal", PreferReturn::kMinimal},
                              std::pair{"respond-async, return=representation", PreferReturn::kRepresentation},
                              std::pair{"return=OperationOutcome", PreferReturn::kOperationOutcome},
                              std::pair{"return=bogus", PreferReturn::kUnspecified}}) {
    Request r = req_with({{"prefer", text}});
    EXPECT_FALSE(apply_conventions(route, r));
    EXPECT_EQ(r.prefer, expect) << text;
  }
}

}  // namespace
}  // namespace gw::http
