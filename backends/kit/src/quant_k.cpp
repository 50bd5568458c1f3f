// k-quant codecs, written over the chunk layout helpers of quant.h (the one
// statement of where a chunk's bits live, which the SIMD kernels follow too).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tessera/kit/half.h"
#include "tessera/kit/quant.h"

namespace tsr {
namespace {

// ---- fitting ------------------------------------------------------------------

// Least-squares x ~ s q - m with q in 0..nmax and m >= 0 (the k-quants store a
// subtracted min). Tries a range of scales around (max - min) / nmax, refits s
// and m to the quants each gives, and keeps the lowest squared error.
void fit_affine(const float* x, int n, int nmax, float& s, float& m) {
  float lo = 0.0f, hi = x[0];
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  s = 0.0f;
  m = -lo;
  if (hi - lo <= 0.0f) return;
  float best = INFINITY;
  for (int k = -6; k <= 10; ++k) {
    const float iscale = (nmax + 0.1f * k) / (hi - lo);
    double sq = 0, sx = 0, sqq = 0, sqx = 0;
    int q[32];
    for (int i = 0; i < n; ++i) {
      q[i] = std::clamp(static_cast<int>(std::lround((x[i] - lo) * iscale)), 0, nmax);
      sq += q[i];
      sx += x[i];
      sqq += q[i] * q[i];
      sqx += q[i] * x[i];
    }
    const double det = n * sqq - sq * sq;
    if (det <= 0) continue;
    double ts = (n * sqx - sq * sx) / det;
    double tb = (sx - ts * sq) / n;  // x ~ ts q + tb, and tb = -m must be <= 0
    if (tb > 0) {
      tb = 0;
      ts = sqq > 0 ? sqx / sqq : 0;
    }
    if (ts <= 0) continue;
    double err = 0;
    for (int i = 0; i < n; ++i) {
      const double e = ts * q[i] + tb - x[i];
      err += e * e;
    }
    if (err < best) {
      best = static_cast<float>(err);
      s = static_cast<float>(ts);
      m = static_cast<float>(-tb);
    }
  }
}

// Least-squares x ~ s q with q in nmin..nmax (nmin < 0 < nmax, |nmin| the
// larger side): the element of largest magnitude starts at nmin, then scales
// around it are refit as in fit_affine. s may be negative.
float fit_symmetric(const float* x, int n, int nmin, int nmax) {
  const float vmax = signed_absmax(x, n);
  if (vmax == 0.0f) return 0.0f;
  float best = INFINITY, s = vmax / nmin;
  for (int k = -8; k <= 8; ++k) {
    const float iscale = (nmin + 0.1f * k) / vmax;
    double sqq = 0, sqx = 0;
    int q[32];
    for (int i = 0; i < n; ++i) {
      q[i] = std::clamp(static_cast<int>(std::lround(x[i] * iscale)), nmin, nmax);
      sqq += q[i] * q[i];
      sqx += q[i] * x[i];
    }
    if (sqq <= 0) continue;
    const double ts = sqx / sqq;
    double err = 0;
    for (int i = 0; i < n; ++i) {
      const double e = ts * q[i] - x[i];
      err += e * e;
    }
    if (err < best) {
      best = static_cast<float>(err);
      s = static_cast<float>(ts);
    }
  }
  return s;
}

// Rounds v / step to an integer in [lo, hi]; 0 when step is 0.
inline int quant_to(float v, float step, int lo, int hi) {
  if (step == 0.0f) return std::clamp(0, lo, hi);
  return std::clamp(static_cast<int>(std::lround(v / step)), lo, hi);
}

// Super-scale of per-sub-block values v (all >= 0) stored in 0..nmax: returns
// the f16-rounded super-scale and writes the stored integers.
float quantize_scales(const float* v, int n, int nmax, int* out, uint16_t& d16) {
  float vmax = 0.0f;
  for (int i = 0; i < n; ++i) vmax = std::max(vmax, v[i]);
  d16 = f32_to_f16(vmax / nmax);
  const float d = f16_to_f32(d16);
  for (int i = 0; i < n; ++i) out[i] = quant_to(v[i], d, 0, nmax);
  return d;
}

void pack_k4_scales(const int* sc, const int* m, uint8_t* s) {
  std::memset(s, 0, 12);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] |= static_cast<uint8_t>(sc[j]);
      s[j + 4] |= static_cast<uint8_t>(m[j]);
    } else {
      s[j + 4] = static_cast<uint8_t>((sc[j] & 0x0f) | ((m[j] & 0x0f) << 4));
      s[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
      s[j] |= static_cast<uint8_t>((m[j] >> 4) << 6);
    }
  }
}

// Shared by q4_K and q5_K (nmax 15 or 31): fits every 32-element sub-block,
// stores the 6-bit scales and mins, and returns the element quants q[256].
void quantize_k_affine(const float* x, int nmax, uint16_t& d16, uint16_t& dmin16, uint8_t* scales, int* q) {
  float s[8], m[8];
  for (int j = 0; j < 8; ++j) fit_affine(x + 32 * j, 32, nmax, s[j], m[j]);
  int isc[8], im[8];
  const float d = quantize_scales(s, 8, 63, isc, d16);
  const float dmin = quantize_scales(m, 8, 63, im, dmin16);
  pack_k4_scales(isc, im, scales);
  for (int j = 0; j < 8; ++j) {
    const float step = d * isc[j], off = dmin * im[j];
    for (int l = 0; l < 32; ++l) q[32 * j + l] = quant_to(x[32 * j + l] + off, step, 0, nmax);
  }
}

}  // namespace

// ---- decoders -------------------------------------------------------------------

void dequantize_q2_K(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    const float d = f16_to_f32(b[i].d), dmin = f16_to_f32(b[i].dmin);
    for (int c = 0; c < 8; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int sm = b[i].scales[2 * c + l / 16];
        dst[32 * c + l] = d * (sm & 0x0f) * q2k_q(b[i], c, l) - dmin * (sm >> 4);
      }
    }
  }
}

void dequantize_q3_K(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    const float d = f16_to_f32(b[i].d);
    for (int c = 0; c < 8; ++c)
      for (int l = 0; l < 32; ++l)
        dst[32 * c + l] = d * q3k_scale(2 * c + l / 16, b[i].scales) * q3k_q(b[i], c, l);
  }
}

void dequantize_q4_K(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    const float d = f16_to_f32(b[i].d), dmin = f16_to_f32(b[i].dmin);
    for (int c = 0; c < 8; ++c) {
      int sc, m;
      k4_scale_min(c, b[i].scales, sc, m);
      for (int l = 0; l < 32; ++l) dst[32 * c + l] = d * sc * q4k_q(b[i].qs, c, l) - dmin * m;
    }
  }
}

void dequantize_q5_K(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    const float d = f16_to_f32(b[i].d), dmin = f16_to_f32(b[i].dmin);
    for (int c = 0; c < 8; ++c) {
      int sc, m;
      k4_scale_min(c, b[i].scales, sc, m);
      for (int l = 0; l < 32; ++l) dst[32 * c + l] = d * sc * q5k_q(b[i], c, l) - dmin * m;
    }
  }
}

void dequantize_q6_K(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
    const float d = f16_to_f32(b[i].d);
    for (int c = 0; c < 8; ++c)
      for (int l = 0; l < 32; ++l) dst[32 * c + l] = d * b[i].scales[2 * c + l / 16] * q6k_q(b[i], c, l);
  }
}

void dequantize_q8_K(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK)
    for (int l = 0; l < kQKK; ++l) dst[l] = b[i].d * b[i].qs[l];
}

// ---- encoders -------------------------------------------------------------------

void quantize_q2_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ2_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float s[16], m[16];
    for (int j = 0; j < 16; ++j) fit_affine(src + 16 * j, 16, 3, s[j], m[j]);
    int isc[16], im[16];
    const float d = quantize_scales(s, 16, 15, isc, b[i].d);
    const float dmin = quantize_scales(m, 16, 15, im, b[i].dmin);
    for (int j = 0; j < 16; ++j) b[i].scales[j] = static_cast<uint8_t>(isc[j] | (im[j] << 4));
    std::memset(b[i].qs, 0, sizeof(b[i].qs));
    for (int c = 0; c < 8; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int j = 2 * c + l / 16;
        const int q = quant_to(src[32 * c + l] + dmin * im[j], d * isc[j], 0, 3);
        b[i].qs[32 * (c / 4) + l] |= static_cast<uint8_t>(q << (2 * (c % 4)));
      }
    }
  }
}

void quantize_q3_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ3_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float s[16], amax = 0.0f;
    for (int j = 0; j < 16; ++j) {
      s[j] = fit_symmetric(src + 16 * j, 16, -4, 3);
      amax = std::max(amax, std::fabs(s[j]));
    }
    b[i].d = f32_to_f16(amax / 31.0f);
    const float d = f16_to_f32(b[i].d);
    int isc[16];
    std::memset(b[i].scales, 0, sizeof(b[i].scales));
    for (int j = 0; j < 16; ++j) {
      isc[j] = quant_to(s[j], d, -32, 31);
      const int v = isc[j] + 32;
      b[i].scales[j % 8] |= static_cast<uint8_t>((v & 0x0f) << (4 * (j / 8)));
      b[i].scales[8 + j % 4] |= static_cast<uint8_t>((v >> 4) << (2 * (j / 4)));
    }
    std::memset(b[i].qs, 0, sizeof(b[i].qs));
    std::memset(b[i].hmask, 0, sizeof(b[i].hmask));
    for (int c = 0; c < 8; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int q = quant_to(src[32 * c + l], d * isc[2 * c + l / 16], -4, 3) + 4;  // 0..7
        b[i].qs[32 * (c / 4) + l] |= static_cast<uint8_t>((q & 3) << (2 * (c % 4)));
        b[i].hmask[l] |= static_cast<uint8_t>((q >> 2) << c);
      }
    }
  }
}

void quantize_q4_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    int q[kQKK];
    quantize_k_affine(src, 15, b[i].d, b[i].dmin, b[i].scales, q);
    for (int c = 0; c < 8; c += 2)
      for (int l = 0; l < 32; ++l)
        b[i].qs[32 * (c / 2) + l] = static_cast<uint8_t>(q[32 * c + l] | (q[32 * (c + 1) + l] << 4));
  }
}

void quantize_q5_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    int q[kQKK];
    quantize_k_affine(src, 31, b[i].d, b[i].dmin, b[i].scales, q);
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int c = 0; c < 8; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int v = q[32 * c + l];
        if (c % 2 == 0)
          b[i].qs[32 * (c / 2) + l] = static_cast<uint8_t>(v & 0x0f);
        else
          b[i].qs[32 * (c / 2) + l] |= static_cast<uint8_t>((v & 0x0f) << 4);
        b[i].qh[l] |= static_cast<uint8_t>((v >> 4) << c);
      }
    }
  }
}

void quantize_q6_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ6_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float s[16], amax = 0.0f;
    for (int j = 0; j < 16; ++j) {
      s[j] = fit_symmetric(src + 16 * j, 16, -32, 31);
      amax = std::max(amax, std::fabs(s[j]));
    }
    b[i].d = f32_to_f16(amax / 127.0f);
    const float d = f16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) b[i].scales[j] = static_cast<int8_t>(quant_to(s[j], d, -127, 127));
    std::memset(b[i].ql, 0, sizeof(b[i].ql));
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int c = 0; c < 8; ++c) {
      const int h = c / 4, t = c % 4;
      for (int l = 0; l < 32; ++l) {
        const int q = quant_to(src[32 * c + l], d * b[i].scales[2 * c + l / 16], -32, 31) + 32;  // 0..63
        b[i].ql[64 * h + 32 * (t % 2) + l] |= static_cast<uint8_t>((q & 0x0f) << (4 * (t / 2)));
        b[i].qh[32 * h + l] |= static_cast<uint8_t>((q >> 4) << (2 * t));
      }
    }
  }
}

void quantize_q8_K(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float amax = 0.0f;
    for (int l = 0; l < kQKK; ++l) amax = std::max(amax, std::fabs(src[l]));
    b[i].d = amax / 127.0f;
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < kQKK / 16; ++j) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) {
        const int q = std::clamp(static_cast<int>(std::lround(src[16 * j + l] * id)), -127, 127);
        b[i].qs[16 * j + l] = static_cast<int8_t>(q);
        sum += q;
      }
      b[i].bsums[j] = static_cast<int16_t>(sum);
    }
  }
}

}  // namespace tsr
