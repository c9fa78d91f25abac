// The one translation unit that compiles Boost.Asio, its SSL layer and
// Boost.Beast (see CMakeLists.txt: *_SEPARATE_COMPILATION). Nothing else
// belongs here.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
