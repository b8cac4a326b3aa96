# The docs_snippets test: builds the target that compiles every C++ code block of the
# documentation, after listing the blocks marked `compile: no` with their reasons.
#   cmake -DBINARY_DIR=<build> -DEXCLUDED=<excluded.txt> [-DKEEP_GOING=<args>] -P BuildSnippets.cmake
if(EXISTS ${EXCLUDED})
    file(STRINGS ${EXCLUDED} _excluded)
    list(LENGTH _excluded _count)
    message("Code blocks not compiled (${_count}), each marked with its reason:")
    foreach(_line IN LISTS _excluded)
        message("  ${_line}")
    endforeach()
endif()

set(_native)
if(KEEP_GOING)
    set(_native -- ${KEEP_GOING})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} --target docs_snippets ${_native}
    RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "A code block of the documentation does not compile: the compiler's "
        "messages above name its Markdown file and line (docs/README.md, \"Code blocks are "
        "compiled\", tells how blocks are wrapped).")
endif()
