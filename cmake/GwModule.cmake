# gw_module(NAME SOURCES... [DEPS ...] [PRIVATE_DEPS ...])
#
# Declares the library target gw_<name> with alias gw::<name>. Our own code
# builds with warnings as errors; third-party headers come in as SYSTEM
# includes through their imported targets so their warnings are not ours.
function(gw_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(gw_${name} STATIC ${M_SOURCES})
  add_library(gw::${name} ALIAS gw_${name})
  target_include_directories(gw_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  # -Wno-restrict: GCC 12 at -O3 reports impossible overlaps inside
  # std::string's own code for `"x" + str` (GCC bug 105329); the Release
  # benchmark build would otherwise fail on correct code. GCC only: clang
  # (the fuzz build) does not know the warning.
  target_compile_options(gw_${name} PRIVATE -Wall -Wextra -Wpedantic -Werror
                         -Wno-missing-field-initializers $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
  if(GW_PCH)
    # The standard and Boost.System headers every module includes through
    # gateway/core: parsed once per module instead of once per file
    # (about a fifth of an ASan -O1 compile). Only headers that never
    # change, so a PCH never goes stale in a developer's tree.
    target_precompile_headers(gw_${name} PRIVATE
      <algorithm> <array> <chrono> <cstdint> <functional> <map> <memory> <optional>
      <set> <span> <string> <string_view> <unordered_map> <variant> <vector>
      <boost/system/result.hpp>)
  endif()
  if(M_DEPS)
    target_link_libraries(gw_${name} PUBLIC ${M_DEPS})
  endif()
  if(M_PRIVATE_DEPS)
    target_link_libraries(gw_${name} PRIVATE ${M_PRIVATE_DEPS})
  endif()
endfunction()

# gw_test(NAME SOURCES... DEPS ... [PROPERTIES ...] [PROCESSES LABEL=FILTER ...]):
# one GoogleTest executable. By default registered with ctest test by test
# (gtest_discover_tests). With PROCESSES, as one ctest test per LABEL that
# runs the gtest FILTER in one process: for suites whose every test loads
# the FHIR definitions (a second or more under ASan), where one process per
# test spent most of CI's test time loading the same files again. Such a
# test must report at least one passed test (a filter that selects nothing
# fails) and no sanitizer report.
function(gw_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;PROPERTIES;PROCESSES" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    GW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT T_PROCESSES)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
      PROPERTIES ENVIRONMENT "GW_SOURCE_DIR=${PROJECT_SOURCE_DIR}" ${T_PROPERTIES})
    return()
  endif()
  foreach(p IN LISTS T_PROCESSES)
    string(REPLACE "=" ";" parts "${p}")
    list(GET parts 0 label)
    list(GET parts 1 filter)
    add_test(NAME ${name}_${label} COMMAND ${name} --gtest_filter=${filter})
    set_tests_properties(${name}_${label} PROPERTIES
      ENVIRONMENT "GW_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
      PASS_REGULAR_EXPRESSION "\\[  PASSED  \\] [1-9][0-9]* test"
      FAIL_REGULAR_EXPRESSION "\\[  FAILED  \\]|ERROR: [A-Za-z]+Sanitizer|runtime error:"
      # Long single processes first, beside the many short tests.
      COST 1000 ${T_PROPERTIES})
  endforeach()
endfunction()
