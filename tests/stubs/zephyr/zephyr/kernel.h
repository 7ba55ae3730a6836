/* Stand-in for <zephyr/kernel.h> (tests only). */
#ifndef MCUFORGE_STUB_ZEPHYR_KERNEL_H
#define MCUFORGE_STUB_ZEPHYR_KERNEL_H

#include <stddef.h>
#include <stdint.h>

struct _thread_stack_info {
    uintptr_t start;
    size_t size;
};

struct k_thread {
    struct _thread_stack_info stack_info;
};

typedef struct {
    int64_t ticks;
} k_timeout_t;

#define K_TIMEOUT_ABS_TICKS(t) ((k_timeout_t){.ticks = (t)})

struct k_thread *k_current_get(void);
uint32_t k_cycle_get_32(void);
uint32_t sys_clock_hw_cycles_per_sec(void);
uint32_t k_cyc_to_us_floor32(uint32_t cycles);
uint64_t k_us_to_ticks_ceil64(uint64_t us);
int64_t k_uptime_ticks(void);
int32_t k_sleep(k_timeout_t timeout);
int32_t k_msleep(int32_t ms);

#endif
