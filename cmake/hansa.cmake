# Project-wide compile options and the helpers every component uses.

# Designated initializers leave the members they do not name value-initialized on purpose (options
# structs with defaults), which -Wextra's missing-field-initializers would flag at every use.
add_compile_options(-Wall -Wextra -Wpedantic -Wno-unused-parameter -Wno-missing-field-initializers)
if(HANSA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

# Link with mold when it is installed (deploy/install-deps.sh installs it): linking dozens of test
# binaries against large static libraries dominates incremental builds with the default linker.
find_program(HANSA_MOLD mold)
if(HANSA_MOLD AND NOT HANSA_FUZZ)
  add_link_options(-fuse-ld=mold)
endif()

# hansa_library(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Declares one component library. Includes are written from the repository root.
function(hansa_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# hansa_test(NAME SOURCES ... [DEPS ...] [NEEDS_PKI])
# One GoogleTest binary per component; every TEST in it is registered with CTest.
# HANSA_SOURCE_DIR, HANSA_BINARY_DIR and HANSA_VECTORS_DIR are compiled in so tests find data
# without guessing. NEEDS_PKI makes the tests depend on the development PKI that the `dev_pki`
# fixture generates (certs/make-dev-pki.sh) into HANSA_TEST_PKI_DIR.
function(hansa_test name)
  cmake_parse_arguments(ARG "NEEDS_PKI" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    HANSA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    HANSA_BINARY_DIR="${PROJECT_BINARY_DIR}"
    HANSA_VECTORS_DIR="${HANSA_VECTORS_DIR}"
    HANSA_TEST_PKI_DIR="${HANSA_TEST_PKI_DIR}")
  set(props TIMEOUT 300)
  if(ARG_NEEDS_PKI)
    list(APPEND props FIXTURES_REQUIRED dev_pki)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()

# Where the dev_pki test fixture writes the generated development PKI.
set(HANSA_TEST_PKI_DIR "${PROJECT_BINARY_DIR}/pki")

# X-Road's test vectors live beside the repository in shared/vectors/xroad.
set(HANSA_VECTORS_DIR "${PROJECT_SOURCE_DIR}/../shared/vectors/xroad" CACHE PATH
    "Directory holding the X-Road interoperability vectors")
