# tessera_git_commit_header(<target> <macro> <header>): <target> can
# #include "<header>", which defines <macro> as the git commit of the source
# tree ("unknown" outside a checkout; "-dirty" with uncommitted changes). The
# header is refreshed at every build and changes only when the commit does,
# so results a tool writes carry the commit it was built from.
set(_tessera_git_commit_script ${CMAKE_CURRENT_LIST_DIR}/GitCommitHeader.cmake)
function(tessera_git_commit_header target macro header)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/generated)
  add_custom_target(${target}_git_info
    COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${dir}/${header} -DNAME=${macro}
            -P ${_tessera_git_commit_script}
    BYPRODUCTS ${dir}/${header}
    COMMENT "${target}: git commit"
    VERBATIM)
  add_dependencies(${target} ${target}_git_info)
  target_include_directories(${target} PRIVATE ${dir})
endfunction()
