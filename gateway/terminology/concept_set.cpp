// Three-valued set algebra over codes (see detail/concept_set.hpp for the
// model and its invariants).
#include "gateway/terminology/detail/concept_set.hpp"

#include <algorithm>
#include <utility>

namespace gw::terminology::detail {

std::string fold_case(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {

// What the FlatIndexes of a part and of a set are keyed by.
auto item_keys(const SystemPart& p) {
  return [&p](std::uint32_t k) { return std::string_view(p.items[k].key); };
}
auto part_systems(const ConceptSet& s) {
  return [&s](std::uint32_t k) { return std::string_view(s.parts[k].system); };
}

}  // namespace

const Item* SystemPart::item(std::string_view key) const {
  std::int64_t i = index.find(key, item_keys(*this));
  return i == FlatIndex::kNone ? nullptr : &items[static_cast<std::size_t>(i)];
}

void SystemPart::put(Item item) {
  std::int64_t i = index.find(item.key, item_keys(*this));
  if (i != FlatIndex::kNone) {
    items[static_cast<std::size_t>(i)] = std::move(item);
    return;
  }
  items.push_back(std::move(item));
  index.add(static_cast<std::uint32_t>(items.size() - 1), item_keys(*this));
}

const SystemPart* ConceptSet::part(std::string_view system) const {
  std::int64_t i = part_index.find(system, part_systems(*this));
  return i == FlatIndex::kNone ? nullptr : &parts[static_cast<std::size_t>(i)];
}

void ConceptSet::add_part(SystemPart p) {
  parts.push_back(std::move(p));
  part_index.add(static_cast<std::uint32_t>(parts.size() - 1), part_systems(*this));
}

SystemPart& ConceptSet::part_for(std::string_view system, bool case_sensitive) {
  std::int64_t i = part_index.find(system, part_systems(*this));
  if (i != FlatIndex::kNone) return parts[static_cast<std::size_t>(i)];
  SystemPart p;
  p.system = std::string(system);
  p.case_sensitive = case_sensitive;
  p.other = other;
  p.other_reason = other_reason;
  add_part(std::move(p));
  return parts.back();
}

Tri ConceptSet::state(std::string_view system, std::string_view code, Reason* why) const {
  const SystemPart* p = part(system);
  if (p == nullptr) {
    if (why) *why = other_reason;
    return other;
  }
  return p->state(code, why);
}

Tri SystemPart::state(std::string_view code, Reason* why) const {
  const Item* found = case_sensitive ? item(code) : item(fold_case(code));
  if (found != nullptr) {
    if (why) *why = found->reason;
    return found->state;
  }
  if (why) *why = other_reason;
  return other;
}

std::size_t ConceptSet::size() const {
  std::size_t n = 0;
  for (const SystemPart& p : parts) n += p.items.size();
  return n;
}

ConceptSet ConceptSet::unknown(Reason why) {
  ConceptSet s;
  s.other = Tri::kMaybe;
  s.other_reason = why;
  return s;
}

ConceptSet ConceptSet::open_system(std::string_view system, bool case_sensitive, Reason why) {
  ConceptSet s;
  SystemPart& p = s.part_for(system, case_sensitive);
  p.other = Tri::kMaybe;
  p.other_reason = why;
  return s;
}

namespace {

// A state with its reason (the reason matters only for kMaybe).
struct Valued {
  Tri state;
  Reason reason;
  const Item* item;  // the stored item this came from, if any
};

using Op = Tri (*)(Tri, Tri);

Tri op_max(Tri a, Tri b) { return std::max(a, b); }
Tri op_min(Tri a, Tri b) { return std::min(a, b); }
Tri op_and_not(Tri a, Tri b) {
  Tri not_b = b == Tri::kIn ? Tri::kOut : (b == Tri::kOut ? Tri::kIn : Tri::kMaybe);
  return std::min(a, not_b);
}

// The reason of a kMaybe result: from whichever operand was kMaybe, the left
// one first. Out and in results carry no reason.
Reason reason_of(Tri result, const Valued& a, const Valued& b) {
  if (result != Tri::kMaybe) return Reason::kNone;
  if (a.state == Tri::kMaybe) return a.reason;
  return b.reason;
}

Valued lookup_in(const SystemPart* p, const ConceptSet& set, std::string_view key) {
  if (p == nullptr) return {set.other, set.other_reason, nullptr};
  if (const Item* it = p->item(key)) return {it->state, it->reason, it};
  return {p->other, p->other_reason, nullptr};
}

Valued default_of(const SystemPart* p, const ConceptSet& set) {
  if (p == nullptr) return {set.other, set.other_reason, nullptr};
  return {p->other, p->other_reason, nullptr};
}

void emit(SystemPart& out, const std::string& key, Tri state, Reason reason, const Valued& a,
          const Valued& b) {
  if (state != Tri::kIn && state == out.other) return;
  Item item;
  item.key = key;
  item.state = state;
  item.reason = reason;
  // Carry the info data of the side that made it a member, else any side
  // that has it (a maybe keeps the code for messages and listing).
  const Item* src = nullptr;
  if (a.item != nullptr && a.state == state)
    src = a.item;
  else if (b.item != nullptr && b.state == state)
    src = b.item;
  else
    src = a.item != nullptr ? a.item : b.item;
  if (src != nullptr) item.info = src->info;
  out.put(std::move(item));
}

// The one algorithm behind unite/intersect/subtract: visit every system that
// either side mentions, and in it every code either side lists, and apply
// `op` to the two states (an unlisted code takes its part's default). Codes
// whose result equals the result part's default are not stored, which keeps
// "include all of SNOMED, exclude one code" at one stored item. Cost is
// linear in the sizes of both inputs.
ConceptSet combine(const ConceptSet& a, const ConceptSet& b, Op op) {
  ConceptSet r;
  Valued da{a.other, a.other_reason, nullptr};
  Valued db{b.other, b.other_reason, nullptr};
  r.other = op(a.other, b.other);
  r.other_reason = reason_of(r.other, da, db);

  auto merge_system = [&](const std::string& system, const SystemPart* pa, const SystemPart* pb) {
    SystemPart rp;
    rp.system = system;
    rp.case_sensitive = pa != nullptr ? pa->case_sensitive : pb->case_sensitive;
    Valued pda = default_of(pa, a);
    Valued pdb = default_of(pb, b);
    rp.other = op(pda.state, pdb.state);
    rp.other_reason = reason_of(rp.other, pda, pdb);
    if (pa != nullptr) {
      for (const Item& it : pa->items) {
        Valued va{it.state, it.reason, &it};
        Valued vb = lookup_in(pb, b, it.key);
        Tri st = op(va.state, vb.state);
        emit(rp, it.key, st, reason_of(st, va, vb), va, vb);
      }
    }
    if (pb != nullptr) {
      for (const Item& it : pb->items) {
        // Same system, same case rule: keys are comparable as stored.
        if (pa != nullptr && pa->item(it.key) != nullptr) continue;
        Valued va = lookup_in(pa, a, it.key);
        Valued vb{it.state, it.reason, &it};
        Tri st = op(va.state, vb.state);
        emit(rp, it.key, st, reason_of(st, va, vb), va, vb);
      }
    }
    // A part that says nothing beyond the set default is dropped, so systems
    // fully removed by an exclude do not linger as empty parts.
    if (rp.items.empty() && rp.other == r.other && rp.other_reason == r.other_reason) return;
    r.add_part(std::move(rp));
  };

  for (const SystemPart& pa : a.parts) merge_system(pa.system, &pa, b.part(pa.system));
  for (const SystemPart& pb : b.parts) {
    if (a.part(pb.system) == nullptr) merge_system(pb.system, nullptr, &pb);
  }
  return r;
}

}  // namespace

ConceptSet unite(const ConceptSet& a, const ConceptSet& b) { return combine(a, b, op_max); }
ConceptSet intersect(const ConceptSet& a, const ConceptSet& b) { return combine(a, b, op_min); }
ConceptSet subtract(const ConceptSet& a, const ConceptSet& b) { return combine(a, b, op_and_not); }

}  // namespace gw::terminology::detail
