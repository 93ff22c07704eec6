# tierkv_add_test(NAME SOURCES... [LIBS libs...] [LABELS labels...])
# Builds one GoogleTest binary and registers its tests with ctest.
function(tierkv_add_test name)
  if(NOT tierkv_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  # An empty LABELS value would vanish from the PROPERTIES list and turn the
  # next key (ENVIRONMENT) into the label, dropping TIERKV_BIN_DIR.
  set(label_props)
  if(ARG_LABELS)
    set(label_props LABELS "${ARG_LABELS}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES ${label_props}
                       ENVIRONMENT "TIERKV_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
endfunction()

if(tierkv_SANITIZE)
  add_compile_options(-fsanitize=${tierkv_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${tierkv_SANITIZE})
endif()
include(GoogleTest)
