// Host of the test binaries' shared precompiled header (tierkv_add_test_pch
// in TierkvHelpers.cmake): it compiles the header once; GoogleTest's main
// makes it a binary with no tests of its own.
