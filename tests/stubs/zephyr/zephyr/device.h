/* Stand-in for <zephyr/device.h> (tests only). */
#ifndef MCUFORGE_STUB_ZEPHYR_DEVICE_H
#define MCUFORGE_STUB_ZEPHYR_DEVICE_H

#include <stdbool.h>
#include "devicetree.h"

struct device {
    const char *name;
};

extern const struct device mcuforge_stub_device;
#define DEVICE_DT_GET(node_id) (&mcuforge_stub_device)

bool device_is_ready(const struct device *dev);

#endif
