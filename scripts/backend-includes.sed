# Rewrites project-root includes in files under backends/<name>/ and
# kernels/, which build without the project root on their include path (see
# cmake/TesseraBackendTargets.cmake): kernels are included through kernels/
# ("cpu/convert.h", "gpu/kernel_args.h") and the shared GPU glue through its
# own folder ("gpu_backend.h"). Run scripts/kit-includes.sed first; then
#   sed -i -E -f scripts/backend-includes.sed backends/<name>/*.{h,cpp} kernels/*/*
# A backend's own headers need one more edit by hand:
#   "backends/<name>/x.h" -> "x.h" (same folder).
s,#include "kernels/(cpu|gpu)/,#include "\1/,
s,#include "backends/gpu/,#include ",
s,#include "ops/op_schema.h",#include "tessera/kit/op_info.h",
