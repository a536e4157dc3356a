# Every third-party dependency, found once. All come from Debian packages that
# deploy/install-deps.sh installs.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
pkg_check_modules(XMLSEC REQUIRED IMPORTED_TARGET xmlsec1-openssl)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(LIBP11 REQUIRED IMPORTED_TARGET libp11)
pkg_check_modules(YAMLCPP REQUIRED IMPORTED_TARGET yaml-cpp)
find_package(tomlplusplus REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG REQUIRED)

# cpp-httplib is header-only; it is included from one translation unit (core/http) only.
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)

if(HANSA_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
