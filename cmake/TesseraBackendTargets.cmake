# How an in-tree backend is built: from the public headers and the backend
# kit only, exactly as a vendor's out-of-tree backend is. A backend that
# reached into core/ or ops/ would not be an example a vendor can follow, so
# configure fails when one does (tessera_check_backend_targets).

# Libraries a backend must not link, directly or through another target.
set(TESSERA_BACKEND_FORBIDDEN_LINKS tessera_core tessera_ops tessera_runtime tessera_capi tessera_llm
                                    tessera_static tessera)

# tessera_backend_component(<name> <sources>...): a static PIC library like
# tessera_component, but its include path is the backend's own folder, the
# kernels (kernels/, included as "cpu/..." or "gpu/..."), the public headers
# and the kit; never the project root.
function(tessera_backend_component name)
  add_library(${name} STATIC ${ARGN})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON
                                           CXX_VISIBILITY_PRESET hidden
                                           C_VISIBILITY_PRESET hidden
                                           VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  target_link_libraries(${name} PUBLIC tessera_backend_kit tessera_kernel_headers fmt::fmt Threads::Threads ${CMAKE_DL_LIBS})
  set_property(GLOBAL APPEND PROPERTY TESSERA_BACKEND_TARGETS ${name})
endfunction()

# Strips $<BUILD_INTERFACE:...> and $<INSTALL_INTERFACE:...> wrappers so the
# include and link checks see plain paths and target names.
function(_tessera_plain_items out)
  set(items "")
  foreach(item ${ARGN})
    string(REGEX REPLACE "^\\$<(BUILD|INSTALL)_INTERFACE:(.*)>$" "\\2" item "${item}")
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    list(APPEND items "${item}")
  endforeach()
  set(${out} "${items}" PARENT_SCOPE)
endfunction()

# Every target `target` links, directly or transitively (targets only).
function(_tessera_linked_targets target out)
  set(seen "")
  set(todo ${target})
  while(todo)
    list(POP_FRONT todo t)
    if(NOT TARGET ${t} OR t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(aliased ${t} ALIASED_TARGET)
    if(aliased)
      list(APPEND todo ${aliased})
      continue()
    endif()
    get_target_property(type ${t} TYPE)
    set(libs "")
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(direct ${t} LINK_LIBRARIES)
      if(direct)
        list(APPEND libs ${direct})
      endif()
    endif()
    get_target_property(iface ${t} INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND libs ${iface})
    endif()
    _tessera_plain_items(libs ${libs})
    list(APPEND todo ${libs})
  endwhile()
  set(${out} "${seen}" PARENT_SCOPE)
endfunction()

# Fails configure, naming the target and the offending library or include
# directory, if a backend target (tessera_backend_component, plus the extra
# targets given, such as plugin modules) links core/ops or can include
# "core/..." / "ops/..." from the project root.
function(tessera_check_backend_targets)
  get_property(targets GLOBAL PROPERTY TESSERA_BACKEND_TARGETS)
  list(APPEND targets ${ARGN})
  get_filename_component(root "${PROJECT_SOURCE_DIR}" REALPATH)
  foreach(target ${targets})
    _tessera_linked_targets(${target} linked)
    foreach(lib ${TESSERA_BACKEND_FORBIDDEN_LINKS})
      if(lib IN_LIST linked)
        message(FATAL_ERROR "backend target ${target} links ${lib} (directly or through another target): a backend "
                            "builds against the public headers and Tessera::backend_kit only (see "
                            "cmake/TesseraBackendTargets.cmake)")
      endif()
    endforeach()
    set(dirs "")
    foreach(t ${linked})
      get_target_property(type ${t} TYPE)
      if(t STREQUAL target AND NOT type STREQUAL "INTERFACE_LIBRARY")
        get_target_property(own ${t} INCLUDE_DIRECTORIES)
        if(own)
          list(APPEND dirs ${own})
        endif()
      endif()
      get_target_property(iface ${t} INTERFACE_INCLUDE_DIRECTORIES)
      if(iface)
        list(APPEND dirs ${iface})
      endif()
    endforeach()
    _tessera_plain_items(dirs ${dirs})
    foreach(dir ${dirs})
      get_filename_component(real "${dir}" REALPATH)
      if(real STREQUAL root)
        message(FATAL_ERROR "backend target ${target} has the project root ${dir} on its include path, so "
                            "it could include core/ or ops/ headers; use the kit (tessera/kit/...) instead")
      endif()
    endforeach()
  endforeach()
endfunction()
