# Rewrites includes of the headers that moved into the backend kit
# (backends/kit/include/tessera/kit/). Apply to any file that still uses the
# old paths:  sed -i -f scripts/kit-includes.sed FILE...
# ops/op_schema.h stays in ops (infer, reference) and includes
# tessera/kit/op_info.h, so its includers need no change.
s|#include "core/status.h"|#include "tessera/kit/status.h"|
s|#include "core/dtype.h"|#include "tessera/kit/dtype.h"|
s|#include "core/half.h"|#include "tessera/kit/half.h"|
s|#include "core/quant.h"|#include "tessera/kit/quant.h"|
s|#include "core/tensor.h"|#include "tessera/kit/tensor.h"|
s|#include "core/abi_guard.h"|#include "tessera/kit/abi_guard.h"|
s|#include "core/kernel_times.h"|#include "tessera/kit/kernel_times.h"|
s|#include "ops/op_support.h"|#include "tessera/kit/op_support.h"|
