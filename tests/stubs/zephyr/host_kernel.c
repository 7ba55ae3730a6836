/* Host implementation of the Zephyr stand-ins (tests only): the console UART writes to
 * stdout, the sensor returns channel index + 0.5, and the program ends after
 * MCUFORGE_STUB_SLEEPS sleeps. */
#include <stdio.h>
#include <stdlib.h>
#include <zephyr/device.h>
#include <zephyr/drivers/sensor.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/kernel.h>

#ifndef MCUFORGE_STUB_SLEEPS
#define MCUFORGE_STUB_SLEEPS 1
#endif

const struct device mcuforge_stub_device = {"stub"};
static struct k_thread main_thread;
static uint32_t cycles;
static int sleeps;

bool device_is_ready(const struct device *dev) { return dev != NULL; }
struct k_thread *k_current_get(void) { return &main_thread; }
uint32_t k_cycle_get_32(void) { return cycles += 1000u; }
uint32_t sys_clock_hw_cycles_per_sec(void) { return 1000000u; }
uint32_t k_cyc_to_us_floor32(uint32_t c) { return c; }
uint64_t k_us_to_ticks_ceil64(uint64_t us) { return us / 100u; }
int64_t k_uptime_ticks(void) { return 0; }

static int32_t sleep_once(void)
{
    if (++sleeps >= MCUFORGE_STUB_SLEEPS) {
        fflush(stdout);
        exit(0);
    }
    return 0;
}

int32_t k_sleep(k_timeout_t timeout) { (void)timeout; return sleep_once(); }
int32_t k_msleep(int32_t ms) { (void)ms; return sleep_once(); }
void uart_poll_out(const struct device *dev, unsigned char c) { (void)dev; putchar(c); }
int sensor_sample_fetch(const struct device *dev) { (void)dev; return 0; }

int sensor_channel_get(const struct device *dev, enum sensor_channel chan,
                       struct sensor_value *val)
{
    (void)dev;
    val->val1 = (int32_t)chan;
    val->val2 = 500000;
    return 0;
}
