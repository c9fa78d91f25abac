// Set-up outside the timed inputs, for fuzz targets that load the FHIR
// packages or start a server (seconds of work) on first use.
//
// libFuzzer calls LLVMFuzzerInitialize once before the first input, so the
// set-up does not count against the first input's -timeout (on a loaded
// machine it exceeded it, which libFuzzer reports as a finding). The replay
// main() (replay_main.cpp) does not call it; the target's set-up function
// then runs on first use, as before.
//
//   const Env& env() { ... }          // the target's lazily made state
//   GW_FUZZ_SET_UP(env)
#pragma once

#define GW_FUZZ_SET_UP(set_up)                                   \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {           \
    (void)(set_up)();                                            \
    return 0;                                                    \
  }
