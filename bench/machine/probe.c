/* What this machine allows, for reading the engine's figures (bench/run-machine-probe.sh):
 *   probe fault MiB   first write of fresh anonymous memory (page faults), then a second write;
 *                     also the first write after madvise(MADV_POPULATE_WRITE) (Linux 5.14+)
 *   probe chase MiB   dependent loads at random addresses (a pointer chase): ns a load
 *   probe chase8 MiB  eight such chases interleaved (misses overlap, as the engine's prefetched
 *                     batches do): ns a load
 *   probe compute     a register-only integer loop: seconds
 * Each prints one line. Two copies run at once tell whether two vCPUs are two cores for the
 * workload (the engine's searches are chases, with page faults while tables grow). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void *fresh(size_t n) {
  void *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  return p;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: probe fault|chase MiB | compute\n"); return 2; }
  size_t mib = argc > 2 ? strtoul(argv[2], 0, 10) : 256, n = mib << 20;
  if (!strcmp(argv[1], "fault")) {
    char *p = fresh(n);
    double t0 = now(); memset(p, 1, n); double t1 = now(); memset(p, 2, n); double t2 = now();
    char *q = fresh(n);
    double t3 = now(); int ok = madvise(q, n, MADV_POPULATE_WRITE) == 0; double t4 = now(); memset(q, 1, n); double t5 = now();
    double pages = n / 4096.0;
    printf("fault %zu MiB: first write %.0f ms (%.2f us a 4 KiB page), second %.0f ms; ", mib, (t1 - t0) * 1e3, (t1 - t0) * 1e6 / pages, (t2 - t1) * 1e3);
    if (ok) printf("after MADV_POPULATE_WRITE (%.0f ms): first write %.0f ms\n", (t4 - t3) * 1e3, (t5 - t4) * 1e3);
    else printf("MADV_POPULATE_WRITE not supported\n");
  } else if (!strcmp(argv[1], "chase") || !strcmp(argv[1], "chase8")) {
    int ways = argv[1][5] == '8' ? 8 : 1;
    size_t k = n / 4;
    uint32_t *next = fresh(n);
    for (size_t i = 0; i < k; i++) next[i] = (uint32_t)i;
    uint64_t s = 88172645463325252ULL;
    for (size_t i = k - 1; i > 0; i--) { /* Sattolo: one cycle through every slot */
      s ^= s << 13; s ^= s >> 7; s ^= s << 17;
      size_t j = s % i; uint32_t t = next[i]; next[i] = next[j]; next[j] = t;
    }
    long loads = 20000000; uint32_t at[8], sum = 0;
    for (int w = 0; w < 8; w++) at[w] = (uint32_t)(w * (k / 8));
    double t0 = now();
    if (ways == 1) for (long i = 0; i < loads; i++) at[0] = next[at[0]];
    else for (long i = 0; i < loads; i += 8)
      for (int w = 0; w < 8; w++) at[w] = next[at[w]];
    double t1 = now();
    for (int w = 0; w < 8; w++) sum += at[w];
    printf("%s %zu MiB: %.1f ns a load (%u)\n", argv[1], mib, (t1 - t0) * 1e9 / loads, sum & 1);
  } else if (!strcmp(argv[1], "compute")) {
    uint64_t x = 1;
    double t0 = now();
    for (long i = 0; i < 400000000L; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
    printf("compute: %.3f s (%lu)\n", now() - t0, (unsigned long)(x & 1));
  } else { fprintf(stderr, "unknown probe %s\n", argv[1]); return 2; }
  return 0;
}
