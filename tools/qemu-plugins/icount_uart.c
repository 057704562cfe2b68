/*
 * A QEMU TCG plugin (system emulation, tested with QEMU 10.0.2) for whole-system
 * measurements in guest instructions, riscv64 `virt`:
 *
 *   out=FILE   one line per byte the firmware (OpenSBI, at 0x8000_0000..0x8020_0000) stores to
 *              the UART's transmit register (physical 0x1000_0000): instructions executed so
 *              far in total, in the firmware, at kernel addresses (>= 0xffff_ff80_0000_0000),
 *              and the byte. Both seL4 and this kernel print through the SBI, so every console
 *              byte gets a timestamp that does not depend on the host.
 *   prof=FILE  instructions per kernel translation block, split by the sel4test phase the
 *              console shows ("Starting test" / "Running test" / "Test ... passed"), written
 *              when "All is well in the universe" appears: tools/kernel-profile.py maps them to
 *              functions.
 *   test=NAME  with prof: count only while test NAME runs (all three phases).
 *
 * Counts are per executed translation block (a block left early by a trap counts whole).
 * Output of `out=` is what tools/sel4test-phases.py reads.
 * Build: `make -C tools/qemu-plugins` (see tools/README.md); the plugin API declarations are
 * in qemu-plugin-api.h (qemu_plugin_mem_get_value needs API version 3 or later).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin-api.h"

QEMU_PLUGIN_DECLARE_VERSION();

#define FW_START 0x80000000ull
#define FW_END 0x80200000ull
#define KERNEL_START 0xffffff8000000000ull
#define UART_THR 0x10000000ull

/* One translated block: its start, length and instructions run per phase (prof only). */
struct block { uint64_t pc, n, count[3]; };

static uint64_t total, firmware, kernel;
static FILE *out, *prof;
static const char *only_test;
static struct block **blocks;
static size_t nblocks, cap;
static int phase = -1;
static bool selected = true;
static char line[512];
static size_t line_len;

static void run_user(unsigned vcpu, void *n) { total += (uintptr_t)n; }
static void run_firmware(unsigned vcpu, void *n) { total += (uintptr_t)n; firmware += (uintptr_t)n; }
static void run_kernel(unsigned vcpu, void *n) { total += (uintptr_t)n; kernel += (uintptr_t)n; }
static void run_kernel_prof(unsigned vcpu, void *u)
{
    struct block *b = u;
    total += b->n;
    kernel += b->n;
    if (selected && phase >= 0)
        b->count[phase] += b->n;
}

static void write_profile(void)
{
    for (size_t i = 0; i < nblocks; i++) {
        struct block *b = blocks[i];
        if (b->count[0] | b->count[1] | b->count[2])
            fprintf(prof, "%llx %llu %llu %llu\n", (unsigned long long)b->pc,
                    (unsigned long long)b->count[0], (unsigned long long)b->count[1],
                    (unsigned long long)b->count[2]);
    }
    fclose(prof);
    prof = NULL;
}

/* A finished console line: the sel4test phase it starts, if any. */
static void console_line(void)
{
    line[line_len] = 0;
    line_len = 0;
    char *s = strstr(line, "Starting test ");
    if (s) {
        phase = 0;
        if (only_test) {
            char *name = strstr(s, ": ");
            size_t len = strlen(only_test);
            selected = name && !strncmp(name + 2, only_test, len) &&
                       (name[2 + len] == 0 || name[2 + len] == '\r');
        }
    } else if (strstr(line, "Running test ")) {
        phase = 1;
    } else if (strstr(line, "Test ") && strstr(line, " passed")) {
        phase = 2;
    }
    if (prof && strstr(line, "All is well in the universe"))
        write_profile();
}

static void uart_store(unsigned vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *u)
{
    if (vaddr != UART_THR)
        return;
    uint8_t c = qemu_plugin_mem_get_value(info).data.u8;
    if (out) {
        fprintf(out, "%llu %llu %llu %u\n", (unsigned long long)total,
                (unsigned long long)firmware, (unsigned long long)kernel, c);
        fflush(out);
    }
    if (c == '\n')
        console_line();
    else if (line_len < sizeof line - 1)
        line[line_len++] = c;
}

static void translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t pc = qemu_plugin_tb_vaddr(tb);
    if (pc >= FW_START && pc < FW_END) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, run_firmware, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
        for (size_t i = 0; i < n; i++)
            qemu_plugin_register_vcpu_mem_cb(qemu_plugin_tb_get_insn(tb, i), uart_store,
                                             QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_W, NULL);
    } else if (pc >= KERNEL_START && prof) {
        struct block *b = calloc(1, sizeof *b);
        if (!b)
            abort();
        b->pc = pc;
        b->n = n;
        if (nblocks == cap) {
            cap = cap ? 2 * cap : 4096;
            blocks = realloc(blocks, cap * sizeof *blocks);
            if (!blocks)
                abort();
        }
        blocks[nblocks++] = b;
        qemu_plugin_register_vcpu_tb_exec_cb(tb, run_kernel_prof, QEMU_PLUGIN_CB_NO_REGS, b);
    } else {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, pc >= KERNEL_START ? run_kernel : run_user,
                                             QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
    }
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "out=", 4) && !(out = fopen(argv[i] + 4, "w")))
            return 1;
        if (!strncmp(argv[i], "prof=", 5) && !(prof = fopen(argv[i] + 5, "w")))
            return 1;
        if (!strncmp(argv[i], "test=", 5)) {
            only_test = argv[i] + 5;
            selected = false;
        }
    }
    if (info->version.cur < QEMU_PLUGIN_API_VERSION) {
        fprintf(stderr, "icount_uart: needs QEMU plugin API %d\n", QEMU_PLUGIN_API_VERSION);
        return 1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, translate);
    return 0;
}
