// Date, DateTime and Time: construction, the FHIR and FHIRPath text grammars,
// the validator's format checks, printing and conversions. Comparison,
// boundaries and arithmetic are in temporal.cpp.
//
// One hand-written scanner serves both grammars: they share every component
// (YYYY, -MM, -DD, Thh, :mm, :ss, .fff, offset) and differ only in which
// components may be left out, which is decided in one place per type.
// Error messages name the component, never the text (it may be a birth date).
#include "gateway/primitives/primitives.hpp"

#include "gateway/primitives/detail/temporal_internal.hpp"

#include <cstdio>

namespace gw::primitives {

namespace {

using P = TemporalPrecision;

Error parse_error(const char* what) { return Error(ErrorCode::kParse, std::string("temporal: ") + what); }

/// A cursor over the text with the component readers both grammars share.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool at_end() const { return pos_ == text_.size(); }
  bool peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }
  /// Exactly `n` digits as a number, or -1.
  int digits(int n) {
    if (text_.size() - pos_ < static_cast<std::size_t>(n)) return -1;
    int v = 0;
    for (int i = 0; i < n; ++i) {
      const char c = text_[pos_ + static_cast<std::size_t>(i)];
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  /// One or more digits after a '.': the first three as milliseconds.
  int fraction_ms() {
    int ms = 0;
    int count = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (count < 3) ms = ms * 10 + (text_[pos_] - '0');
      ++count;
      ++pos_;
    }
    if (count == 0) return -1;
    for (int i = count; i < 3; ++i) ms *= 10;
    return ms;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

/// The fields of any temporal value while it is being read.
struct Parts {
  int year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, millisecond = 0;
  P precision = P::kYear;
  std::optional<int> offset;
};

Status check_date(const Parts& p) {
  if (p.year < 1 || p.year > 9999) return parse_error("year out of range");
  if (p.month < 1 || p.month > 12) return parse_error("month out of range");
  if (p.day < 1 || p.day > detail::days_in_month(p.year, p.month)) return parse_error("day out of range");
  return {};
}

/// YYYY(-MM(-DD)?)?
Status read_date(Scanner& s, Parts& p) {
  p.year = s.digits(4);
  if (p.year < 0) return parse_error("expected a four-digit year");
  p.precision = P::kYear;
  if (s.eat('-')) {
    p.month = s.digits(2);
    if (p.month < 0) return parse_error("expected a two-digit month");
    p.precision = P::kMonth;
    if (s.eat('-')) {
      p.day = s.digits(2);
      if (p.day < 0) return parse_error("expected a two-digit day");
      p.precision = P::kDay;
    }
  }
  return check_date(p);
}

/// hh(:mm(:ss(.f+)?)?)? ; `require_seconds` for the FHIR grammar, which also
/// admits the leap second 60 (stored as 59).
Status read_time(Scanner& s, Parts& p, bool require_seconds) {
  p.hour = s.digits(2);
  if (p.hour < 0) return parse_error("expected a two-digit hour");
  if (p.hour > 23) return parse_error("hour out of range");
  p.precision = P::kHour;
  if (!s.eat(':')) return require_seconds ? parse_error("expected minutes") : Status{};
  p.minute = s.digits(2);
  if (p.minute < 0) return parse_error("expected two-digit minutes");
  if (p.minute > 59) return parse_error("minute out of range");
  p.precision = P::kMinute;
  if (!s.eat(':')) return require_seconds ? parse_error("expected seconds") : Status{};
  p.second = s.digits(2);
  if (p.second < 0) return parse_error("expected two-digit seconds");
  if (p.second > 59) {
    if (!(require_seconds && p.second == 60)) return parse_error("second out of range");
    p.second = 59;
  }
  p.precision = P::kSecond;
  if (s.eat('.')) {
    p.millisecond = s.fraction_ms();
    if (p.millisecond < 0) return parse_error("expected digits after the decimal point");
    p.precision = P::kMillisecond;
  }
  return {};
}

/// Z | (+|-)hh:mm within -14:00..+14:00.
Status read_offset(Scanner& s, Parts& p) {
  if (s.eat('Z')) {
    p.offset = 0;
    return {};
  }
  int sign = 0;
  if (s.eat('+')) {
    sign = 1;
  } else if (s.eat('-')) {
    sign = -1;
  } else {
    return parse_error("expected a timezone");
  }
  const int h = s.digits(2);
  if (h < 0 || !s.eat(':')) return parse_error("expected a timezone as hh:mm");
  const int m = s.digits(2);
  if (m < 0) return parse_error("expected a timezone as hh:mm");
  if (m > 59 || h * 60 + m > detail::kMaxOffsetMinutes) return parse_error("timezone out of range");
  p.offset = sign * (h * 60 + m);
  return {};
}

bool offset_follows(const Scanner& s) { return s.peek('Z') || s.peek('+') || s.peek('-'); }

Result<Date> to_date(const Parts& p) {
  Date d;
  d.year = static_cast<std::int16_t>(p.year);
  d.precision = p.precision;
  if (p.precision >= P::kMonth) d.month = static_cast<std::uint8_t>(p.month);
  if (p.precision >= P::kDay) d.day = static_cast<std::uint8_t>(p.day);
  return d;
}

DateTime to_datetime_value(const Parts& p) {
  DateTime v;
  v.year = static_cast<std::int16_t>(p.year);
  v.precision = p.precision;
  if (p.precision >= P::kMonth) v.month = static_cast<std::uint8_t>(p.month);
  if (p.precision >= P::kDay) v.day = static_cast<std::uint8_t>(p.day);
  if (p.precision >= P::kHour) v.hour = static_cast<std::uint8_t>(p.hour);
  if (p.precision >= P::kMinute) v.minute = static_cast<std::uint8_t>(p.minute);
  if (p.precision >= P::kSecond) v.second = static_cast<std::uint8_t>(p.second);
  if (p.precision >= P::kMillisecond) v.millisecond = static_cast<std::uint16_t>(p.millisecond);
  if (p.offset) v.tz_offset_minutes = static_cast<std::int16_t>(*p.offset);
  return v;
}

Time to_time_value(const Parts& p) {
  Time t;
  t.precision = p.precision;
  t.hour = static_cast<std::uint8_t>(p.hour);
  if (p.precision >= P::kMinute) t.minute = static_cast<std::uint8_t>(p.minute);
  if (p.precision >= P::kSecond) t.second = static_cast<std::uint8_t>(p.second);
  if (p.precision >= P::kMillisecond) t.millisecond = static_cast<std::uint16_t>(p.millisecond);
  return t;
}

Result<DateTime> parse_datetime_impl(std::string_view text, TemporalSyntax syntax, bool instant) {
  Scanner s(text);
  Parts p;
  GW_CHECK_OK(read_date(s, p));
  const bool fhir = syntax == TemporalSyntax::kFhir;
  if (s.eat('T')) {
    if (!fhir && s.at_end()) return to_datetime_value(p);  // @2015T, @2015-02-04T
    if (p.precision != P::kDay) return parse_error("a time needs a full date");
    GW_CHECK_OK(read_time(s, p, fhir));
    if (offset_follows(s)) {
      GW_CHECK_OK(read_offset(s, p));
    } else if (fhir) {
      return parse_error("timezone required when a time is present");
    }
  } else if (instant) {
    return parse_error("instant requires a time");
  }
  if (instant && (p.precision < P::kSecond || !p.offset)) return parse_error("instant requires seconds and timezone");
  if (!s.at_end()) return parse_error("unexpected trailing characters");
  return to_datetime_value(p);
}

void append_2(std::string& out, int v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

void append_date(std::string& out, int y, int m, int d, P precision) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04d", y);
  out += buf;
  if (precision >= P::kMonth) {
    out.push_back('-');
    append_2(out, m);
  }
  if (precision >= P::kDay) {
    out.push_back('-');
    append_2(out, d);
  }
}

void append_time(std::string& out, int h, int mi, int s, int ms, P precision) {
  append_2(out, h);
  if (precision >= P::kMinute) {
    out.push_back(':');
    append_2(out, mi);
  }
  if (precision >= P::kSecond) {
    out.push_back(':');
    append_2(out, s);
  }
  if (precision >= P::kMillisecond) {
    out.push_back('.');
    out.push_back(static_cast<char>('0' + ms / 100));
    append_2(out, ms % 100);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Construction

Result<Date> make_date(int year, int month, int day, TemporalPrecision precision) {
  if (precision > P::kDay) return fail(ErrorCode::kInvalidArgument, "date: precision finer than a day");
  Parts p{.year = year, .month = precision >= P::kMonth ? month : 1, .day = precision >= P::kDay ? day : 1};
  p.precision = precision;
  if (auto ok = check_date(p); !ok) return Error(ErrorCode::kInvalidArgument, ok.error().message());
  return to_date(p);
}

Result<DateTime> make_datetime(int year, int month, int day, int hour, int minute, int second, int millisecond,
                               TemporalPrecision precision, std::optional<int> tz_offset_minutes) {
  Parts p{.year = year, .month = precision >= P::kMonth ? month : 1, .day = precision >= P::kDay ? day : 1};
  p.precision = precision;
  const auto bad = [](const char* what) {
    return Error(ErrorCode::kInvalidArgument, std::string("dateTime: ") + what);
  };
  if (auto ok = check_date(p); !ok) return Error(ErrorCode::kInvalidArgument, ok.error().message());
  if (precision >= P::kHour && (hour < 0 || hour > 23)) return bad("hour out of range");
  if (precision >= P::kMinute && (minute < 0 || minute > 59)) return bad("minute out of range");
  if (precision >= P::kSecond && (second < 0 || second > 59)) return bad("second out of range");
  if (precision >= P::kMillisecond && (millisecond < 0 || millisecond > 999)) return bad("millisecond out of range");
  if (tz_offset_minutes) {
    if (precision < P::kHour) return bad("timezone without a time");
    if (*tz_offset_minutes < detail::kMinOffsetMinutes || *tz_offset_minutes > detail::kMaxOffsetMinutes) {
      return bad("timezone out of range");
    }
  }
  p.hour = hour;
  p.minute = minute;
  p.second = second;
  p.millisecond = millisecond;
  p.offset = tz_offset_minutes;
  return to_datetime_value(p);
}

Result<Time> make_time(int hour, int minute, int second, int millisecond, TemporalPrecision precision) {
  const auto bad = [](const char* what) { return Error(ErrorCode::kInvalidArgument, std::string("time: ") + what); };
  if (precision < P::kHour) return bad("precision coarser than an hour");
  if (hour < 0 || hour > 23) return bad("hour out of range");
  if (precision >= P::kMinute && (minute < 0 || minute > 59)) return bad("minute out of range");
  if (precision >= P::kSecond && (second < 0 || second > 59)) return bad("second out of range");
  if (precision >= P::kMillisecond && (millisecond < 0 || millisecond > 999)) return bad("millisecond out of range");
  Parts p{.hour = hour, .minute = minute, .second = second, .millisecond = millisecond};
  p.precision = precision;
  return to_time_value(p);
}

// ---------------------------------------------------------------------------
// Parsing and validation

Result<Date> parse_date(std::string_view text, TemporalSyntax /*syntax: both grammars agree*/) {
  Scanner s(text);
  Parts p;
  GW_CHECK_OK(read_date(s, p));
  if (!s.at_end()) return parse_error("unexpected trailing characters");
  return to_date(p);
}

Result<DateTime> parse_datetime(std::string_view text, TemporalSyntax syntax) {
  return parse_datetime_impl(text, syntax, false);
}

Result<DateTime> parse_instant(std::string_view text) { return parse_datetime_impl(text, TemporalSyntax::kFhir, true); }

Result<Time> parse_time(std::string_view text, TemporalSyntax syntax) {
  Scanner s(text);
  Parts p;
  GW_CHECK_OK(read_time(s, p, syntax == TemporalSyntax::kFhir));
  if (!s.at_end()) return parse_error("unexpected trailing characters");
  return to_time_value(p);
}

bool is_valid_fhir_date(std::string_view text) noexcept { return parse_date(text, TemporalSyntax::kFhir).has_value(); }
bool is_valid_fhir_datetime(std::string_view text) noexcept {
  return parse_datetime(text, TemporalSyntax::kFhir).has_value();
}
bool is_valid_fhir_instant(std::string_view text) noexcept { return parse_instant(text).has_value(); }
bool is_valid_fhir_time(std::string_view text) noexcept { return parse_time(text, TemporalSyntax::kFhir).has_value(); }

// ---------------------------------------------------------------------------
// Printing

std::string Date::to_string() const {
  std::string out;
  append_date(out, year, month, day, precision);
  return out;
}

std::string Date::to_literal() const { return "@" + to_string(); }

std::string DateTime::to_string() const {
  std::string out;
  append_date(out, year, month, day, precision);
  if (precision >= P::kHour) {
    out.push_back('T');
    append_time(out, hour, minute, second, millisecond, precision);
    if (tz_offset_minutes) {
      const int off = *tz_offset_minutes;
      if (off == 0) {
        out.push_back('Z');
      } else {
        const int a = off < 0 ? -off : off;
        out.push_back(off < 0 ? '-' : '+');
        append_2(out, a / 60);
        out.push_back(':');
        append_2(out, a % 60);
      }
    }
  }
  return out;
}

std::string DateTime::to_literal() const { return "@" + to_string() + (precision <= P::kDay ? "T" : ""); }

std::string Time::to_string() const {
  std::string out;
  append_time(out, hour, minute, second, millisecond, precision);
  return out;
}

std::string Time::to_literal() const { return "@T" + to_string(); }

// ---------------------------------------------------------------------------
// Conversions

DateTime to_datetime(const Date& date) noexcept {
  DateTime v;
  v.year = date.year;
  v.month = date.month;
  v.day = date.day;
  v.precision = date.precision;
  return v;
}

Date date_part(const DateTime& value) noexcept {
  Date d;
  d.year = value.year;
  d.month = value.month;
  d.day = value.day;
  d.precision = value.precision < P::kDay ? value.precision : P::kDay;
  return d;
}

std::optional<Time> time_part(const DateTime& value) noexcept {
  if (value.precision < P::kHour) return std::nullopt;
  Time t;
  t.hour = value.hour;
  t.minute = value.minute;
  t.second = value.second;
  t.millisecond = value.millisecond;
  t.precision = value.precision;
  return t;
}

Result<DateTime> datetime_from_time_point(std::chrono::system_clock::time_point tp, int tz_offset_minutes) {
  if (tz_offset_minutes < detail::kMinOffsetMinutes || tz_offset_minutes > detail::kMaxOffsetMinutes) {
    return fail(ErrorCode::kInvalidArgument, "dateTime: timezone out of range");
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  DateTime v;
  v.precision = P::kMillisecond;
  v.tz_offset_minutes = static_cast<std::int16_t>(tz_offset_minutes);
  if (!detail::set_local_ms(v, ms + tz_offset_minutes * detail::kMsPerMinute)) {
    return fail(ErrorCode::kInvalidArgument, "dateTime: year out of range");
  }
  return v;
}

int precision_digits(const Date& value) noexcept {
  switch (value.precision) {
    case P::kYear: return 4;
    case P::kMonth: return 6;
    default: return 8;
  }
}

int precision_digits(const DateTime& value) noexcept {
  constexpr int kDigits[] = {4, 6, 8, 10, 12, 14, 17};
  return kDigits[static_cast<int>(value.precision)];
}

int precision_digits(const Time& value) noexcept {
  switch (value.precision) {
    case P::kHour: return 2;
    case P::kMinute: return 4;
    case P::kSecond: return 6;
    default: return 9;
  }
}

}  // namespace gw::primitives
