# Script of the install_consumer test (see CMakeLists.txt): cmake -D... -P RunConsumer.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var REQIVO_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER EXPECTED_VERSION)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "RunConsumer.cmake: ${var} is not set")
    endif()
endforeach()
if(NOT BUILD_TYPE)
    set(BUILD_TYPE RelWithDebInfo)
endif()

function(run step)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "install test: ${step} failed (${rc})")
    endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run("cmake --install" ${CMAKE_COMMAND} --install ${REQIVO_BINARY_DIR} --prefix ${prefix})

# What a user's find_package() and #include need must be in the prefix.
file(GLOB_RECURSE config_files ${prefix}/*/ReqivoConfig.cmake)
foreach(file include/Reqivo/Headers include/Reqivo/Errors include/Reqivo/WhenAll
        include/Reqivo/reqivoglobal.h include/Reqivo/reqivo_export.h
        include/Reqivo/Testing/MockServer include/Reqivo/Testing/reqivotesting_export.h)
    if(NOT EXISTS ${prefix}/${file})
        message(FATAL_ERROR "install test: ${file} is not installed")
    endif()
endforeach()
if(NOT config_files)
    message(FATAL_ERROR "install test: ReqivoConfig.cmake is not installed")
endif()

set(flags "")
if(SANITIZE)
    # The installed library carries the sanitizer runtime's symbols; the consumer must link it.
    set(flags -DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE}
        -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE})
endif()
set(make_program "")
if(MAKE_PROGRAM)
    set(make_program -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
run("configure consumer" ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${build}
    -G ${GENERATOR} ${make_program}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
    -DCONSUMER_WERROR=ON
    -DEXPECTED_VERSION=${EXPECTED_VERSION}
    ${flags})

# The package must have come from the prefix, not from the build tree or the system.
file(STRINGS ${build}/CMakeCache.txt reqivo_dir REGEX "^Reqivo_DIR:")
string(REGEX REPLACE "^Reqivo_DIR:[A-Z]+=" "" reqivo_dir "${reqivo_dir}")
file(REAL_PATH "${reqivo_dir}" reqivo_dir)
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${reqivo_dir}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
    message(FATAL_ERROR "install test: Reqivo was found in '${reqivo_dir}', not in ${prefix}")
endif()

run("build consumer" ${CMAKE_COMMAND} --build ${build})
run("run consumer" ${build}/app)
# The consumer that also uses Reqivo::Testing (consumer/, not samples/).
if(EXISTS ${CONSUMER_SOURCE_DIR}/mockserver.cpp)
    run("run the Reqivo::Testing consumer" ${build}/mockserver-app)
endif()
message(STATUS "install test passed: ${prefix}")
