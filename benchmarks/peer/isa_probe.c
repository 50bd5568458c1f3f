/* isa_probe FEATURE: executes one instruction of each extension that ggml's
 * build option for FEATURE turns on, and exits 0 if all of them ran. An
 * extension the CPU lists but cannot execute (AMX in a virtual machine that
 * does not pass its state through) dies with SIGILL, which the caller reads
 * as "no": a flag list alone (cpuid, /proc/cpuinfo) said yes to AMX on
 * machines where llama.cpp then died in its AMX matmul.
 *
 * Features: avx avx2 fma f16c bmi2 avx512 avx512_vbmi avx512_vnni avx512_bf16
 * avx_vnni amx_tile amx_int8 amx_bf16. Exit codes: 0 runs, 1 the OS refused
 * the AMX state, 2 usage; killed by SIGILL: the CPU cannot execute it. */
#include <immintrin.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TARGET(t) __attribute__((target(t), noinline))

static volatile int sink;

TARGET("avx") static void probe_avx(void) {
  volatile __m256 a = _mm256_set1_ps((float)sink);
  __m256 r = _mm256_add_ps(a, a);
  sink += (int)_mm256_cvtss_f32(r);
}
TARGET("avx2") static void probe_avx2(void) {
  volatile __m256i a = _mm256_set1_epi32(sink);
  __m256i r = _mm256_add_epi32(a, a);
  sink += _mm256_extract_epi32(r, 0);
}
TARGET("fma") static void probe_fma(void) {
  volatile __m256 a = _mm256_set1_ps((float)sink);
  __m256 r = _mm256_fmadd_ps(a, a, a);
  sink += (int)_mm256_cvtss_f32(r);
}
TARGET("f16c") static void probe_f16c(void) {
  volatile __m128i a = _mm_set1_epi16((short)sink);
  __m128 r = _mm_cvtph_ps(a);
  sink += (int)_mm_cvtss_f32(r);
}
TARGET("bmi2") static void probe_bmi2(void) {
  volatile unsigned a = (unsigned)sink + 7u;
  sink += (int)_pdep_u32(a, 0x0f0fu);
}
/* ggml's GGML_AVX512 turns on F, CD, VL, DQ and BW. */
TARGET("avx512f,avx512cd,avx512vl,avx512dq,avx512bw") static void probe_avx512(void) {
  volatile __m512i a = _mm512_set1_epi32(sink + 1);
  __m512i r = _mm512_add_epi8(a, a);                                         /* BW */
  r = _mm512_conflict_epi32(r);                                              /* CD */
  __m512d d = _mm512_and_pd(_mm512_castsi512_pd(r), _mm512_castsi512_pd(a)); /* DQ */
  __m256i v = _mm256_mask_add_epi32(_mm256_set1_epi32(1), 0x5, _mm512_castsi512_si256(r),
                                    _mm512_castsi512_si256(_mm512_castpd_si512(d))); /* VL */
  sink += _mm_cvtsi128_si32(_mm256_castsi256_si128(v)) + _mm512_reduce_add_epi32(r); /* F */
}
TARGET("avx512f,avx512vbmi") static void probe_avx512_vbmi(void) {
  volatile __m512i a = _mm512_set1_epi32(sink);
  __m512i r = _mm512_permutexvar_epi8(a, a);
  sink += _mm512_reduce_add_epi32(r);
}
TARGET("avx512f,avx512vnni") static void probe_avx512_vnni(void) {
  volatile __m512i a = _mm512_set1_epi32(sink);
  __m512i r = _mm512_dpbusd_epi32(a, a, a);
  sink += _mm512_reduce_add_epi32(r);
}
TARGET("avx512f,avx512bf16") static void probe_avx512_bf16(void) {
  volatile __m512 a = _mm512_set1_ps((float)sink);
  __m512bh b = _mm512_cvtne2ps_pbh(a, a);
  __m512 r = _mm512_dpbf16_ps(a, b, b);
  sink += (int)_mm512_reduce_add_ps(r);
}
TARGET("avxvnni") static void probe_avx_vnni(void) {
  volatile __m256i a = _mm256_set1_epi32(sink);
  __m256i r = _mm256_dpbusd_avx_epi32(a, a, a);
  sink += _mm256_extract_epi32(r, 0);
}

/* AMX: the OS must first grant the tile data state (Linux 5.16+,
 * arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA), as ggml does. */
static int amx_permit(void) {
  const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
  return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}
struct tile_config {
  unsigned char palette, start_row, reserved[14];
  unsigned short colsb[16];
  unsigned char rows[16];
};
static struct tile_config tiles(void) {
  struct tile_config c;
  memset(&c, 0, sizeof c);
  c.palette = 1;
  for (int t = 0; t < 3; ++t) {
    c.rows[t] = 16;
    c.colsb[t] = 64;
  }
  return c;
}
static unsigned char tile_a[16 * 64], tile_c[16 * 64];
TARGET("amx-tile") static void probe_amx_tile(void) {
  struct tile_config c = tiles();
  _tile_loadconfig(&c);
  _tile_zero(0);
  _tile_stored(0, tile_c, 64);
  _tile_release();
  sink += tile_c[0];
}
TARGET("amx-tile,amx-int8") static void probe_amx_int8(void) {
  struct tile_config c = tiles();
  _tile_loadconfig(&c);
  _tile_zero(0);
  _tile_loadd(1, tile_a, 64);
  _tile_loadd(2, tile_a, 64);
  _tile_dpbssd(0, 1, 2);
  _tile_stored(0, tile_c, 64);
  _tile_release();
  sink += tile_c[0];
}
TARGET("amx-tile,amx-bf16") static void probe_amx_bf16(void) {
  struct tile_config c = tiles();
  _tile_loadconfig(&c);
  _tile_zero(0);
  _tile_loadd(1, tile_a, 64);
  _tile_loadd(2, tile_a, 64);
  _tile_dpbf16ps(0, 1, 2);
  _tile_stored(0, tile_c, 64);
  _tile_release();
  sink += tile_c[0];
}

int main(int argc, char** argv) {
  static const struct {
    const char* name;
    void (*run)(void);
    int amx;
  } probes[] = {{"avx", probe_avx, 0},
                {"avx2", probe_avx2, 0},
                {"fma", probe_fma, 0},
                {"f16c", probe_f16c, 0},
                {"bmi2", probe_bmi2, 0},
                {"avx512", probe_avx512, 0},
                {"avx512_vbmi", probe_avx512_vbmi, 0},
                {"avx512_vnni", probe_avx512_vnni, 0},
                {"avx512_bf16", probe_avx512_bf16, 0},
                {"avx_vnni", probe_avx_vnni, 0},
                {"amx_tile", probe_amx_tile, 1},
                {"amx_int8", probe_amx_int8, 1},
                {"amx_bf16", probe_amx_bf16, 1}};
  if (argc != 2) {
    fprintf(stderr, "usage: isa_probe FEATURE\n");
    return 2;
  }
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; ++i) {
    if (strcmp(argv[1], probes[i].name) != 0) continue;
    if (probes[i].amx && !amx_permit()) return 1;
    probes[i].run();
    return 0;
  }
  fprintf(stderr, "isa_probe: unknown feature '%s'\n", argv[1]);
  return 2;
}
