#include "gateway/consent/consent.hpp"
#include <gtest/gtest.h>
#include <iostream>
#include "tests/consent/consent_fixture.hpp"
namespace gw::consent {
TEST(Scratch, Dump) {
  auto p = testing::default_policy();
  auto doc = testing::parse(gw::testing::read_file(std::getenv("FIX")));
  Decision d; d.permitted.assign(p->categories().size(), false);
  auto r = redact(*p, *testing::model(), doc.root(), d);
  ASSERT_TRUE(r) << r.error().to_string();
  for (auto& v : r->removed_values) std::cout << "VALUE: " << v << "\n";
  for (auto& v : r->removals) std::cout << "REM: " << to_string(v.action) << " " << v.path << " " << v.rule << "\n";
  std::cout << r->document << "\n";
}
}
