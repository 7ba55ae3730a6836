/* Stand-in for <zephyr/drivers/uart.h> (tests only). */
#ifndef MCUFORGE_STUB_ZEPHYR_UART_H
#define MCUFORGE_STUB_ZEPHYR_UART_H

#include "../device.h"

void uart_poll_out(const struct device *dev, unsigned char out_char);

#endif
