// Implementation in progress; see primitives.hpp for the contract.
#include "gateway/primitives/primitives.hpp"
