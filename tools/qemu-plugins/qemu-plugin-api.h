/*
 * The part of QEMU's TCG plugin interface that the plugins in this directory use, declared
 * here because distributions ship QEMU without its `qemu-plugin.h`.
 *
 * Plugin API version 4, tested with QEMU 10.0.2 (which loads plugins of versions 2 to 4). A
 * plugin states the version it was written against in `qemu_plugin_version`
 * (QEMU_PLUGIN_DECLARE_VERSION below) and QEMU refuses to load it if that is outside the range
 * QEMU supports; qemu_info_t.version says which range that is. The names, types and
 * constant values are QEMU's ABI (its include/qemu/qemu-plugin.h); only what is used is here:
 *
 *   qemu_plugin_install            the entry point every plugin defines
 *   ..._register_vcpu_tb_trans_cb  called for each translation block QEMU translates
 *   ..._register_vcpu_tb_exec_cb   called each time a translated block runs
 *   ..._register_vcpu_mem_cb       called at each memory access of one instruction
 *   ..._tb_n_insns, _tb_vaddr, _tb_get_insn, _insn_vaddr   a block's instructions and addresses
 *   ..._mem_get_value              the value a memory access stored or loaded (API >= 3)
 */
#ifndef QEMU_PLUGIN_API_H
#define QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The version of the plugin interface these declarations follow. */
#define QEMU_PLUGIN_API_VERSION 4

/* QEMU finds these two symbols with dlsym: build with -fvisibility=hidden, export only them. */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_DECLARE_VERSION() QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_API_VERSION

/* QEMU's handle for a loaded plugin. */
typedef uint64_t qemu_plugin_id_t;

/* Opaque handles, valid only inside the translation callback. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/*
 * What QEMU tells a plugin at install time. QEMU's struct continues with a union about the
 * system or the user-mode process; only this leading part is read here, through a pointer,
 * so the rest need not be declared.
 */
typedef struct {
    const char *target_name; /* e.g. "riscv64" */
    struct {
        int min, cur; /* the plugin API versions this QEMU supports */
    } version;
    bool system_emulation;
} qemu_info_t;

/* Whether a callback reads or writes guest registers (enum qemu_plugin_cb_flags). */
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS = 0, /* the only one used: no register access */
};

/* Which memory accesses a memory callback sees (enum qemu_plugin_mem_rw). */
enum qemu_plugin_mem_rw {
    QEMU_PLUGIN_MEM_W = 2, /* stores only */
};

/* Describes one memory access, for qemu_plugin_mem_get_value. */
typedef uint32_t qemu_plugin_meminfo_t;

/*
 * The value of one memory access: `type` says which member of `data` is valid (0: u8,
 * 1: u16, 2: u32, 3: u64, 4: u128). Returned by value, so the union's full size matters.
 */
typedef struct {
    int type;
    union {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        struct {
            uint64_t low, high;
        } u128;
    } data;
} qemu_plugin_mem_value;

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);

/* Defined by the plugin: parse argv ("key=value" strings), register callbacks, 0 on success. */
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
                                      void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
qemu_plugin_mem_value qemu_plugin_mem_get_value(qemu_plugin_meminfo_t info);

#endif
