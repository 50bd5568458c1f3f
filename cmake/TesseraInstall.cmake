# Installs the shared library, the public headers, the backend kit (headers
# and static library), a CMake package (find_package(Tessera) ->
# Tessera::tessera, Tessera::backend_kit) and pkg-config files (tessera,
# tessera-backend-kit).
include(CMakePackageConfigHelpers)

install(TARGETS tessera tessera_backend_kit EXPORT TesseraTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES
          ${PROJECT_SOURCE_DIR}/python-free-api/include/tessera/tessera.h
          ${PROJECT_SOURCE_DIR}/python-free-api/include/tessera/tessera.hpp
          ${PROJECT_SOURCE_DIR}/python-free-api/include/tessera/tessera_types.h
          ${PROJECT_SOURCE_DIR}/python-free-api/include/tessera/tessera_backend.h
          ${PROJECT_SOURCE_DIR}/python-free-api/include/tessera/tessera_comm.h
          ${PROJECT_SOURCE_DIR}/python-free-api/include/tessera/tessera_gguf.h
          ${PROJECT_SOURCE_DIR}/python-free-api/include/tessera/tessera_llm.h
          ${PROJECT_SOURCE_DIR}/python-free-api/include/tessera/tessera_llm.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/backends/kit/include/tessera/kit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera)
# The null backend as a plugin: the template a vendor's build can load.
install(TARGETS tessera_null_plugin LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/tessera)
if(TESSERA_WITH_MPI)
  install(TARGETS tessera-comm-mpi LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/tessera)
endif()
if(TESSERA_BUILD_TOOLS)
  install(TARGETS tessera-info tessera-conformance tessera-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(TESSERA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Tessera)
install(EXPORT TesseraTargets NAMESPACE Tessera:: DESTINATION ${TESSERA_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/TesseraConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/TesseraConfig.cmake
                              INSTALL_DESTINATION ${TESSERA_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/TesseraConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/TesseraConfig.cmake ${PROJECT_BINARY_DIR}/TesseraConfigVersion.cmake
        DESTINATION ${TESSERA_CMAKE_DIR})

# pkg-config file relative to its own location, so an installed tree can move.
file(RELATIVE_PATH TESSERA_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/tessera.pc.in ${PROJECT_BINARY_DIR}/tessera.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/tessera-backend-kit.pc.in ${PROJECT_BINARY_DIR}/tessera-backend-kit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tessera.pc ${PROJECT_BINARY_DIR}/tessera-backend-kit.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
