/* Cache-aware GEMM blocking: the data caches are read at run time (CPUID leaf 4 on Intel,
 * 0x8000001D on AMD; /sys/devices/system/cpu/cpu0/cache as fallback; fixed defaults when
 * neither answers) and KC / MC / NC of each kernel are derived from them with the BLIS
 * analytical model (Low, Igual, Smith, Quintana-Orti, "Analytical modeling is enough for
 * high-performance BLIS", TOMS 2016):
 *   KC: the B micro-panel (KC x NR) stays in L1 while A micro-panels stream through:
 *       of the W1 - 1 ways left after C, A takes ca = floor((W1 - 1) / (1 + NR / MR)),
 *       KC = ca * (L1 way bytes) / (MR * esize);
 *   MC: the A block (MC x KC) fills the L2 ways not needed by one B micro-panel and C:
 *       MC = (W2 - 1 - ceil(KC * NR * esize / L2 way bytes)) * (L2 way bytes) / (KC * esize);
 *   NC: the B panel (KC x NC) fills the L3 ways not needed by the A block:
 *       NC = ways * (L3 way bytes) / (KC * esize), capped at TC_NC_MAX and at KC * NC * esize
 *       <= 8 MiB (the L3 is shared with other cores and processes; the cap also keeps
 *       the packed-B scratch at its 8 MiB floor, docs/memory-bounds.md).
 * KC is a multiple of 8, MC of MR, NC of NR. Each kernel's table entry stays the fallback
 * when the model gives something unusable (a cache reported as 0 bytes).
 *
 * TENSORCORE_GEMM_ISA=generic|avx2|avx512|neon picks the C GEMM's kernel family (capped by
 * what the CPU and build support, like TENSORCORE_SIMD, but for GEMM only). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_internal.h"
#include "tc_internal.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define TC_BLK_X86 1
#endif

enum { TC_NC_MAX = 8190, TC_KC_MIN = 64, TC_KC_MAX = 1024, TC_B_MAX = 8 << 20 };

static tc_cache_info tc_caches;
static const char *tc_cache_source = "default";

static void tc_cache_set(int level, int64_t size, int ways, int line)
{
    if (level < 1 || level > 3 || size <= 0)
        return;
    tc_cache_level *c = &tc_caches.level[level - 1];
    c->size = size;
    c->ways = ways > 0 ? ways : 8;
    c->line = line > 0 ? line : 64;
}

#ifdef TC_BLK_X86
/* Deterministic cache parameters: leaf 4 (Intel) or 0x8000001D (AMD). Returns 1 when an
 * L1 data cache was found. */
static int tc_cache_cpuid(void)
{
    unsigned eax, ebx, ecx, edx;
    unsigned leaf = 4;
    if (__get_cpuid_max(0x80000000u, NULL) >= 0x8000001Du &&
        __get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx) && ((ecx >> 22) & 1))
        leaf = 0x8000001Du;                 /* AMD topology extensions */
    else if (__get_cpuid_max(0, NULL) < 4)
        return 0;
    for (unsigned sub = 0; sub < 16; ++sub) {
        __cpuid_count(leaf, sub, eax, ebx, ecx, edx);
        const unsigned type = eax & 0x1f;   /* 0 none, 1 data, 2 instruction, 3 unified */
        if (type == 0)
            break;
        if (type == 2)
            continue;
        const int level = (int)((eax >> 5) & 7);
        const int ways = (int)((ebx >> 22) & 0x3ff) + 1;
        const int parts = (int)((ebx >> 12) & 0x3ff) + 1;
        const int line = (int)(ebx & 0xfff) + 1;
        const int64_t sets = (int64_t)ecx + 1;
        tc_cache_set(level, (int64_t)ways * parts * line * sets, ways, line);
    }
    return tc_caches.level[0].size > 0;
}
#endif

static int64_t tc_read_sysfs(const char *dir, const char *name, char *text, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    const int ok = fgets(text, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*end == 'K')
        v *= 1024;
    else if (*end == 'M')
        v *= 1024 * 1024;
    return v;
}

static int tc_cache_sysfs(void)
{
    for (int idx = 0; idx < 16; ++idx) {
        char dir[128], text[64];
        snprintf(dir, sizeof dir, "/sys/devices/system/cpu/cpu0/cache/index%d", idx);
        const int64_t level = tc_read_sysfs(dir, "level", text, sizeof text);
        if (level < 0)
            break;
        if (tc_read_sysfs(dir, "type", text, sizeof text) < 0 ||
            strncmp(text, "Instruction", 11) == 0)
            continue;
        const int64_t size = tc_read_sysfs(dir, "size", text, sizeof text);
        const int64_t ways = tc_read_sysfs(dir, "ways_of_associativity", text, sizeof text);
        const int64_t line = tc_read_sysfs(dir, "coherency_line_size", text, sizeof text);
        tc_cache_set((int)level, size, (int)ways, (int)line);
    }
    return tc_caches.level[0].size > 0;
}

static const tc_gemm_kernel *const tc_base_kernels[] = {
    &tc_gemm_kernel_generic_f32, &tc_gemm_kernel_generic_f64,
#ifdef TC_GEMM_HAVE_X86_KERNELS
    &tc_gemm_kernel_avx2_f32, &tc_gemm_kernel_avx2_f64,
    &tc_gemm_kernel_avx512_f32, &tc_gemm_kernel_avx512_f64,
#endif
#ifdef TC_GEMM_HAVE_NEON_KERNELS
    &tc_gemm_kernel_neon_f32, &tc_gemm_kernel_neon_f64,
#endif
};
enum { TC_NKERNELS = sizeof tc_base_kernels / sizeof tc_base_kernels[0] };
static tc_gemm_kernel tc_tuned[TC_NKERNELS];
static int tc_gemm_isa = TC_SIMD_GENERIC;

static int64_t tc_way_bytes(const tc_cache_level *c) { return c->size / c->ways; }

void tc_gemm_model_blocks(const tc_cache_info *caches, tc_gemm_kernel *k)
{
    const tc_cache_level *l1 = &caches->level[0], *l2 = &caches->level[1],
                         *l3 = &caches->level[2];
    const int64_t es = k->esize, mr = k->mr, nr = k->nr;
    if (l1->size <= 0 || l2->size <= 0 || l1->ways < 2 || l2->ways < 3)
        return;
    int64_t ca = (int64_t)((l1->ways - 1) / (1.0 + (double)nr / (double)mr));
    ca = ca < 1 ? 1 : ca;
    int64_t kc = ca * tc_way_bytes(l1) / (mr * es) / 8 * 8;
    kc = kc < TC_KC_MIN ? TC_KC_MIN : kc > TC_KC_MAX ? TC_KC_MAX : kc;
    const int64_t w2 = tc_way_bytes(l2);
    int64_t ways2 = l2->ways - 1 - (kc * nr * es + w2 - 1) / w2;
    ways2 = ways2 < 1 ? 1 : ways2;
    int64_t mc = ways2 * w2 / (kc * es) / mr * mr;
    mc = mc < mr ? mr : mc;
    /* NC at most TC_NC_MAX and the packed B (KC x NC) at most TC_B_MAX bytes. */
    int64_t nc = TC_NC_MAX < TC_B_MAX / (kc * es) ? TC_NC_MAX : TC_B_MAX / (kc * es);
    nc = nc / nr * nr;
    if (l3->size > 0 && l3->ways >= 2) {
        const int64_t w3 = tc_way_bytes(l3);
        int64_t ways3 = l3->ways - 1 - (mc * kc * es + w3 - 1) / w3;
        ways3 = ways3 < 1 ? 1 : ways3;
        const int64_t model = ways3 * w3 / (kc * es) / nr * nr;
        nc = model < nr ? nr : model < nc ? model : nc;
    }
    k->kc = (int)kc;
    k->mc = (int)mc;
    k->nc = (int)nc;
}

static void tc_blocking_init(void)
{
    tc_cache_set(2, 256 << 10, 8, 64);      /* defaults, replaced by what is found */
    tc_cache_set(3, 8 << 20, 16, 64);
#ifdef TC_BLK_X86
    if (tc_cache_cpuid())
        tc_cache_source = "cpuid";
#endif
    if (tc_caches.level[0].size <= 0 && tc_cache_sysfs())
        tc_cache_source = "sysfs";
    if (tc_caches.level[0].size <= 0) {
        tc_cache_set(1, 32 << 10, 8, 64);
        tc_cache_source = "default";
    }
    const char *env = getenv("TENSORCORE_GEMM_ISA");
    int isa = tc_simd_level_id();
    if (env != NULL && *env != '\0') {
        const int want = strcmp(env, "generic") == 0 ? TC_SIMD_GENERIC
                         : strcmp(env, "avx2") == 0  ? TC_SIMD_AVX2
                         : strcmp(env, "avx512") == 0 ? TC_SIMD_AVX512
                         : strcmp(env, "neon") == 0  ? TC_SIMD_NEON : isa;
        isa = want < isa ? want : isa;
    }
    tc_gemm_isa = isa;
    for (int i = 0; i < TC_NKERNELS; ++i) {
        tc_tuned[i] = *tc_base_kernels[i];
        tc_gemm_model_blocks(&tc_caches, &tc_tuned[i]);
    }
}

static pthread_once_t tc_blocking_once = PTHREAD_ONCE_INIT;

const tc_cache_info *tc_cache_sizes_info(const char **source)
{
    pthread_once(&tc_blocking_once, tc_blocking_init);
    if (source != NULL)
        *source = tc_cache_source;
    return &tc_caches;
}

const tc_gemm_kernel *tc_gemm_select_kernel(int dtype)
{
    pthread_once(&tc_blocking_once, tc_blocking_init);
    const int f64 = dtype == TC_FLOAT64;
    int family = 0;
#ifdef TC_GEMM_HAVE_X86_KERNELS
    family = tc_gemm_isa == TC_SIMD_AVX512 ? 2 : tc_gemm_isa == TC_SIMD_AVX2 ? 1 : 0;
#endif
#ifdef TC_GEMM_HAVE_NEON_KERNELS
    family = tc_gemm_isa == TC_SIMD_NEON ? 1 : 0;
#endif
    return &tc_tuned[2 * family + f64];
}

int tc_cache_sizes(int64_t *sizes)
{
    const tc_cache_info *c = tc_cache_sizes_info(NULL);
    if (sizes == NULL)
        return tc_set_error("tc_cache_sizes: sizes is NULL (expected room for 3 values)");
    for (int i = 0; i < 3; ++i)
        sizes[i] = c->level[i].size;
    return TC_OK;
}

int tc_gemm_blocks(int dtype, int64_t *blocks)
{
    if (dtype != TC_FLOAT32 && dtype != TC_FLOAT64)
        return tc_set_error("tc_gemm_blocks: dtype %d is not float32 or float64", dtype);
    if (blocks == NULL)
        return tc_set_error("tc_gemm_blocks: blocks is NULL (expected room for 5 values)");
    const tc_gemm_kernel *k = tc_gemm_select_kernel(dtype);
    blocks[0] = k->mr; blocks[1] = k->nr; blocks[2] = k->kc; blocks[3] = k->mc;
    blocks[4] = k->nc;
    return TC_OK;
}
