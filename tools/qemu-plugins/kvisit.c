/*
 * QEMU TCG plugin (system emulation): the kernel's instructions per kernel entry.
 *
 * A "visit" is what the CPU runs from the first kernel translation block after user code to
 * the next user block. The plugin writes the visits that match its triggers, each as a line
 * `VISIT <n> total <instructions> tbs <blocks>` followed by one line `<hex address> <count>`
 * per block executed, in order (a block is straight-line code: its instructions are at
 * address, address + 4, ...). tools/kvisit.py turns that into per-function or
 * per-source-line counts. Blocks are counted whole, which is exact in the kernel (nothing
 * interrupts it mid-block there).
 *
 * Arguments (-plugin kvisit.so,arg=value,...):
 *   out=FILE     where to write (default /tmp/kvisit.txt)
 *   trig=HEX     a user address: the visit must follow a user block containing it (e.g. the
 *                `svc`/`ecall` of the benchmark loop); repeatable, any one matches
 *   ktrig=HEX    a kernel address the visit must execute (e.g. a function's first
 *                instruction); repeatable, any one matches
 *   kbase=HEX    kernel addresses are those >= kbase (default 0xffff000000000000; riscv64
 *                Sv39: 0xffffffc000000000)
 *   skip=N       leave out the first N matching visits; max=M: write at most M (default 20)
 *
 * Build: `make -C tools/qemu-plugins` (see tools/README.md); the plugin API declarations are
 * in qemu-plugin-api.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin-api.h"

QEMU_PLUGIN_DECLARE_VERSION();

#define MAX_TRIG 16
#define MAX_BLOCKS 200000

/* One translated block: its first address, its length, whether it holds a trigger. */
struct block {
    uint64_t addr;
    uint32_t n;
    bool user_trig, kernel_trig;
};

static FILE *out;
static uint64_t utrig[MAX_TRIG], ktrig[MAX_TRIG];
static int n_utrig, n_ktrig;
static long skip, max_dumped = 20, seen, dumped;
static uint64_t kbase = 0xffff000000000000ull;

static struct block *visit[MAX_BLOCKS];
static long n_blocks;
static bool in_kernel, user_hit, kernel_hit, last_user_trig;
static uint64_t total;

static void on_exec(unsigned int vcpu, void *p)
{
    struct block *b = p;
    (void)vcpu;
    if (b->addr >= kbase) {
        if (!in_kernel) {
            in_kernel = true;
            n_blocks = 0;
            total = 0;
            user_hit = last_user_trig || n_utrig == 0;
            kernel_hit = n_ktrig == 0;
        }
        if (n_blocks < MAX_BLOCKS) {
            visit[n_blocks++] = b;
        }
        total += b->n;
        kernel_hit |= b->kernel_trig;
        return;
    }
    last_user_trig = b->user_trig;
    if (!in_kernel) {
        return;
    }
    in_kernel = false;
    if (!user_hit || !kernel_hit) {
        return;
    }
    seen++;
    if (seen <= skip || dumped >= max_dumped) {
        return;
    }
    dumped++;
    fprintf(out, "VISIT %ld total %llu tbs %ld\n", seen, (unsigned long long)total, n_blocks);
    for (long i = 0; i < n_blocks; i++) {
        fprintf(out, "%llx %u\n", (unsigned long long)visit[i]->addr, visit[i]->n);
    }
    fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    struct block *b = calloc(1, sizeof *b); /* lives as long as QEMU may run the block */
    (void)id;
    if (b == NULL) {
        return;
    }
    b->addr = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
    b->n = (uint32_t)n;
    for (size_t k = 0; k < n; k++) {
        uint64_t a = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, k));
        for (int j = 0; j < n_utrig; j++) {
            b->user_trig |= a == utrig[j];
        }
        for (int j = 0; j < n_ktrig; j++) {
            b->kernel_trig |= a == ktrig[j];
        }
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    const char *path = "/tmp/kvisit.txt";
    (void)info;
    for (int k = 0; k < argc; k++) {
        const char *a = argv[k];
        if (!strncmp(a, "out=", 4)) {
            path = a + 4;
        } else if (!strncmp(a, "trig=", 5) && n_utrig < MAX_TRIG) {
            utrig[n_utrig++] = strtoull(a + 5, NULL, 16);
        } else if (!strncmp(a, "ktrig=", 6) && n_ktrig < MAX_TRIG) {
            ktrig[n_ktrig++] = strtoull(a + 6, NULL, 16);
        } else if (!strncmp(a, "kbase=", 6)) {
            kbase = strtoull(a + 6, NULL, 16);
        } else if (!strncmp(a, "skip=", 5)) {
            skip = atol(a + 5);
        } else if (!strncmp(a, "max=", 4)) {
            max_dumped = atol(a + 4);
        } else {
            fprintf(stderr, "kvisit: unknown argument %s\n", a);
            return 1;
        }
    }
    out = fopen(path, "w");
    if (out == NULL) {
        return 1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    return 0;
}
