# cmake -DPROGRAM=<bench_sse> -P CheckSseBench.cmake
# The bench-smoke check: a tiny run exits 0 (every event arrived) and prints the two JSON lines
# the README's table reads. Speed is not checked.
cmake_minimum_required(VERSION 3.25)
execute_process(COMMAND ${PROGRAM} --iterations 3 --events 2000 --rounds 1
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bench_sse exited with ${rc}: ${out} ${err}")
endif()
string(STRIP "${out}" out)
string(REPLACE "\n" ";" lines "${out}")
set(seen)
foreach(line IN LISTS lines)
    string(JSON name ERROR_VARIABLE problem GET "${line}" bench)
    if(problem)
        message(FATAL_ERROR "not a JSON line: ${line} (${problem})")
    endif()
    list(APPEND seen ${name})
endforeach()
foreach(expected sse_parse sse_events)
    if(NOT expected IN_LIST seen)
        message(FATAL_ERROR "no ${expected} line in: ${out}")
    endif()
endforeach()
