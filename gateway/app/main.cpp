// Entry point: converts argv and hands over to gw::app::run. Exceptions are
// for start-up and configuration only (STYLE.md §5); any that escape a
// command end here with exit code 2 instead of an abort.
#include "gateway/app/app.hpp"

#include <exception>
#include <iostream>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv, argv + argc);
  try {
    return gw::app::run(args, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "fhir-gateway: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "fhir-gateway: internal error\n";
  }
  return gw::app::kExitUsage;
}
