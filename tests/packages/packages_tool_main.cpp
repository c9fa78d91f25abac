// A stand-alone `packages` command for development and measurement until
// the lead wires run_packages_command into `fhir-gateway packages ...`:
//   build/bin/fhir-gateway-packages list --loaded
//   /usr/bin/time -v build/bin/fhir-gateway-packages list --loaded
#include "gateway/packages/packages.hpp"

#include <iostream>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  return gw::packages::run_packages_command(args, std::cout, std::cerr);
}
