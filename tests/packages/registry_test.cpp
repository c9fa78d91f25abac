#include "gateway/packages/packages.hpp"
#include <gtest/gtest.h>
