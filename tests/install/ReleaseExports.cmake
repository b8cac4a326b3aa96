# Script of the install_exports test (see CMakeLists.txt): cmake -D... -P ReleaseExports.cmake
#
# Builds the library as a user or a distribution does, without tests, benchmarks, fuzzers,
# examples or QML (so REQIVO_BUILD_INTERNAL_EXPORTS is not defined), then:
#  1. fails if that library exports any symbol that is not public API (CheckExports.cmake);
#  2. checks that the same check does find the internal symbols of this test build's library
#     (LIBRARY), which exports them for the tests: a check that cannot fail proves nothing;
#  3. installs it and builds and runs both install consumers against it, so the public headers
#     need nothing that only a test build exports.
# The build directory is kept between runs: only the first run compiles the whole library.
cmake_minimum_required(VERSION 3.25)

foreach(var SOURCE_DIR LIBRARY NM WORK_DIR GENERATOR CXX_COMPILER EXPECTED_VERSION)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "ReleaseExports.cmake: ${var} is not set")
    endif()
endforeach()
if(NOT BUILD_TYPE)
    set(BUILD_TYPE RelWithDebInfo)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/CheckExports.cmake)

function(run step)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "install_exports: ${step} failed (${rc})")
    endif()
endfunction()

set(build ${WORK_DIR}/build)
set(make_program "")
if(MAKE_PROGRAM)
    set(make_program -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
run("configure the library alone" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build}
    -G ${GENERATOR} ${make_program}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DREQIVO_BUILD_TESTS=OFF -DREQIVO_BUILD_BENCHMARKS=OFF -DREQIVO_BUILD_FUZZERS=OFF
    -DREQIVO_BUILD_EXAMPLES=OFF -DREQIVO_WITH_QML=OFF -DREQIVO_WERROR=ON)
run("build the library alone" ${CMAKE_COMMAND} --build ${build})

set(release_library ${build}/src/libReqivo.so.${EXPECTED_VERSION})
if(NOT EXISTS ${release_library})
    message(FATAL_ERROR "install_exports: ${release_library} was not built")
endif()

set(public_headers ${SOURCE_DIR}/include/Reqivo)
reqivo_internal_exports(${release_library} ${public_headers} ${NM} internal examined)
if(examined LESS 100)
    message(FATAL_ERROR "install_exports: only ${examined} Reqivo symbols in ${release_library}"
        "; the symbol table was not read")
endif()
if(internal)
    set(hint "mark internal classes and functions REQIVO_TESTS_EXPORT, not REQIVO_EXPORT")
    reqivo_print_symbols("Internal symbols exported by the library built alone (${hint}):"
        ${internal})
    message(FATAL_ERROR "install_exports: ${release_library} exports internal symbols")
endif()
message(STATUS "install_exports: ${examined} Reqivo symbols of ${release_library}, all public")

reqivo_internal_exports(${LIBRARY} ${public_headers} ${NM} test_build_internal)
if(NOT test_build_internal)
    message(FATAL_ERROR "install_exports: the check found no internal symbol in ${LIBRARY}, "
        "which is built with REQIVO_BUILD_INTERNAL_EXPORTS and exports the classes marked "
        "REQIVO_TESTS_EXPORT; the check cannot see them")
endif()
list(LENGTH test_build_internal count)
message(STATUS "install_exports: the check sees the ${count} internal symbols of ${LIBRARY}")

foreach(consumer consumer samples)
    run("install consumer '${consumer}' against the library alone" ${CMAKE_COMMAND}
        -DREQIVO_BINARY_DIR=${build}
        -DCONSUMER_SOURCE_DIR=${CMAKE_CURRENT_LIST_DIR}/${consumer}
        -DWORK_DIR=${WORK_DIR}/${consumer}-test
        -DGENERATOR=${GENERATOR}
        -DMAKE_PROGRAM=${MAKE_PROGRAM}
        -DCXX_COMPILER=${CXX_COMPILER}
        -DBUILD_TYPE=${BUILD_TYPE}
        -DEXPECTED_VERSION=${EXPECTED_VERSION}
        -P ${CMAKE_CURRENT_LIST_DIR}/RunConsumer.cmake)
endforeach()
message(STATUS "install_exports passed")
