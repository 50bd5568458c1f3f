# tessera_probe_config_package(PACKAGE OUT_OK OUT_REASON)
#
# Tells whether find_package(PACKAGE CONFIG) can succeed here, without
# risking this configure. A package config may itself call
# find_package(... REQUIRED) on its own dependencies, and a failure there is
# a FATAL_ERROR no caller can catch: Debian's oneDNN config requires the
# OpenCL development files, which libdnnl-dev only recommends, so a machine
# with oneDNN but without them could not configure Tessera at all. The
# probe runs that find_package in a throwaway project in a child cmake;
# OUT_OK is TRUE when it succeeded, otherwise OUT_REASON holds the child's
# first error line ("Could NOT find OpenCL (missing: ...)"). Costs one
# small configure (about a second) per call.
function(tessera_probe_config_package package out_ok out_reason)
  set(dir ${CMAKE_BINARY_DIR}/CMakeFiles/tessera-probe-${package})
  file(REMOVE_RECURSE ${dir})
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/probe -B ${dir}
            -G ${CMAKE_GENERATOR} -DTESSERA_PROBE_PACKAGE=${package}
            -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
            "-DCMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH}" "-D${package}_DIR=${${package}_DIR}"
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  file(REMOVE_RECURSE ${dir})
  if(rc EQUAL 0)
    set(${out_ok} TRUE PARENT_SCOPE)
    set(${out_reason} "" PARENT_SCOPE)
    return()
  endif()
  # The first line of the error that is not CMake's framing.
  set(reason "")
  string(REPLACE "\n" ";" lines "${err}")
  set(in_error FALSE)
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    if(line MATCHES "^CMake Error")
      set(in_error TRUE)
    elseif(in_error AND NOT line STREQUAL "")
      set(reason "${line}")
      break()
    endif()
  endforeach()
  if(reason STREQUAL "")
    set(reason "find_package(${package}) failed (exit ${rc})")
  endif()
  set(${out_ok} FALSE PARENT_SCOPE)
  set(${out_reason} "${reason}" PARENT_SCOPE)
endfunction()
