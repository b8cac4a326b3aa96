# reqivo_internal_exports(<library> <public-include-dir> <nm> <out-var> [<out-count>])
#
# Lists the dynamic symbols of <library> that belong to no public API: a symbol whose leftmost
# Reqivo entity (Reqivo::<Name>, as in "Reqivo::Protocol::ResponseParser::reset()" or
# "std::shared_ptr<Reqivo::Client::Decompressor>") names something other than a class, struct or
# function marked REQIVO_EXPORT in the public headers. Internal namespaces (Reqivo::Protocol,
# Client, Transport, Sync, WebSocketDetail) and internal classes in Reqivo itself (BodyStream,
# *Private) are therefore all caught, without a list to keep up to date. Symbols are read
# mangled, where the first spelled-out "6Reqivo<length><name>" is that leftmost entity (later
# ones are substitutions), so a public function whose parameters mention an internal type is not
# mistaken for an internal symbol. <out-count> receives the number of Reqivo symbols examined.

function(reqivo_public_names include_dir out_var)
    file(GLOB headers ${include_dir}/*.h)
    set(names "")
    foreach(header IN LISTS headers)
        file(READ ${header} text)
        set(space "[ \t\r\n]+")
        string(REGEX MATCHALL "(class|struct)${space}REQIVO_EXPORT${space}[A-Za-z_][A-Za-z0-9_]*"
            decls "${text}")
        string(REGEX MATCHALL "REQIVO_DECLARE_ERROR\\([A-Za-z_][A-Za-z0-9_]*" errors "${text}")
        string(REGEX MATCHALL "REQIVO_EXPORT[^;{}()]*\\(" functions "${text}")
        foreach(decl IN LISTS decls errors functions)
            string(REGEX MATCH "([A-Za-z_][A-Za-z0-9_]*)[^A-Za-z0-9_]*$" _ "${decl}")
            set(name ${CMAKE_MATCH_1})
            if(NOT name MATCHES "^(REQIVO_EXPORT|operator|Class)$")
                list(APPEND names ${name})
            endif()
        endforeach()
    endforeach()
    list(REMOVE_DUPLICATES names)
    set(${out_var} ${names} PARENT_SCOPE)
endfunction()

function(reqivo_internal_exports library include_dir nm out_var)
    reqivo_public_names(${include_dir} public)
    list(LENGTH public public_count)
    if(public_count LESS 10)
        message(FATAL_ERROR "export check: only ${public_count} public names found in "
            "${include_dir} (${public}); the header scan is broken")
    endif()

    execute_process(COMMAND ${nm} -D --defined-only -P ${library}
        OUTPUT_VARIABLE table RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "export check: ${nm} -D ${library} failed (${rc}): ${err}")
    endif()
    string(REGEX MATCHALL "[^\n]+" lines "${table}")

    set(internal "")
    set(examined 0)
    foreach(line IN LISTS lines)
        string(REGEX MATCH "^[^ ]+" symbol "${line}")
        string(REGEX MATCH "(^|[^0-9])6Reqivo([0-9]+)" found "${symbol}")
        if(NOT found)
            continue()
        endif()
        set(length ${CMAKE_MATCH_2})
        string(FIND "${symbol}" "${found}" at)
        string(LENGTH "${found}" found_length)
        math(EXPR at "${at} + ${found_length}")
        string(SUBSTRING "${symbol}" ${at} ${length} name)
        math(EXPR examined "${examined} + 1")
        list(FIND public "${name}" index)
        if(index EQUAL -1)
            list(APPEND internal ${symbol})
        endif()
    endforeach()
    set(${out_var} ${internal} PARENT_SCOPE)
    if(ARGC GREATER 4)
        set(${ARGV4} ${examined} PARENT_SCOPE)
    endif()
endfunction()

# Prints <symbols> demangled (c++filt when available), one a line, after <title>.
function(reqivo_print_symbols title)
    set(text "")
    foreach(symbol IN LISTS ARGN)
        string(APPEND text "${symbol}\n")
    endforeach()
    find_program(CXXFILT c++filt)
    if(CXXFILT)
        string(RANDOM LENGTH 8 tag)
        set(file ${CMAKE_CURRENT_BINARY_DIR}/reqivo-symbols-${tag}.txt)
        file(WRITE ${file} "${text}")
        execute_process(COMMAND ${CXXFILT} INPUT_FILE ${file} OUTPUT_VARIABLE text)
        file(REMOVE ${file})
    endif()
    message("${title}\n${text}")
endfunction()
