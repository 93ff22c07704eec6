# What `cmake --install build --prefix P` puts under P:
#   bin/                      the daemon, the CLI, the engine and the benchmarks
#   include/tierkv/           the public headers (base/include and client/include)
#   lib/libtierkv.so.*, .a    the client library (client/CMakeLists.txt)
#   lib/cmake/tierkv/         find_package(tierkv): tierkv::tierkv, tierkv::tierkv_static
#   lib/pkgconfig/tierkv.pc   pkg-config tierkv
#   lib/python3.X/dist-packages/tierkv   the Python package (python/CMakeLists.txt)
# Every path in the package files is relative to where they are installed, so
# the prefix can be chosen at install time.
include(CMakePackageConfigHelpers)

set(tierkv_installed_programs
  tierkvd tierkv tierkv-bench tierkv-engine tierkv-mkmodel tierkv-nvme-bench tierkv-load-bench
  tierkv-kernel-bench)
foreach(program ${tierkv_installed_programs})
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

install(DIRECTORY base/include/tierkv client/include/tierkv
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(TARGETS tierkv_shared tierkv_static EXPORT tierkvTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

set(tierkv_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/tierkv)
install(EXPORT tierkvTargets NAMESPACE tierkv:: DESTINATION ${tierkv_cmake_dir})
configure_package_config_file(cmake/tierkvConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/tierkvConfig.cmake
                              INSTALL_DESTINATION ${tierkv_cmake_dir})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/tierkvConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/tierkvConfig.cmake ${CMAKE_BINARY_DIR}/tierkvConfigVersion.cmake
        DESTINATION ${tierkv_cmake_dir})

set(tierkv_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH tierkv_pc_to_prefix /${tierkv_pc_dir} /)
string(REGEX REPLACE "/$" "" tierkv_pc_to_prefix "${tierkv_pc_to_prefix}")
configure_file(cmake/tierkv.pc.in ${CMAKE_BINARY_DIR}/tierkv.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/tierkv.pc DESTINATION ${tierkv_pc_dir})

# The installed package as an integrator uses it: out-of-tree C and C++
# programs built with find_package and with pkg-config, headers compiled
# alone, the Python package imported from the prefix, all against a real
# daemon (tests/install/run.sh). Sanitized libraries cannot be linked by
# plain programs, so sanitizer builds leave it out.
if(tierkv_BUILD_TESTS AND NOT tierkv_SANITIZE)
  add_test(NAME InstallTest
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/install/run.sh
                   ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR}/tests/install
                   ${Python3_EXECUTABLE} ${tierkv_HAVE_PYTHON})
  set_tests_properties(InstallTest PROPERTIES LABELS "install;integration")
endif()
